"""Throwaway virtualenvs for tests that install our distributions the way users do.

The wheels are built once per test with ``pip wheel --no-build-isolation`` (hatchling
from requirements-dev.txt) instead of letting pip build each local folder in its own
isolated build env, which costs about 4 s a package. The venvs get no pip of their own:
the test run's pip installs into them with ``--python``. Dependencies come from the
package index through pip's cache, as for any user.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "Venv", "build_wheels", "copy_working_tree", "pip_env"]

REPO_ROOT = Path(__file__).resolve().parent.parent

# Captured at import, before the autouse fixture points HOME at an empty folder: pip
# must find the developer's (warm) cache and configuration.
_PIP_ENV = {
    name: os.environ[name]
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "PIP_CACHE_DIR")
    if name in os.environ
}


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess that must see only the venv's packages."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def copy_working_tree(destination: Path) -> Path:
    """What a fresh clone of this working tree holds: tracked files plus new unignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def pip_env() -> dict[str, str]:
    """The environment for a shell that creates and fills its own venv, as a user's does."""
    env = _clean_env(**_PIP_ENV)
    env.pop("VIRTUAL_ENV", None)
    return env


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        # pip's config on some machines names find-links folders that do not exist.
        stderr = "\n".join(
            line for line in result.stderr.splitlines() if "is ignored: it is neither" not in line
        )
        raise AssertionError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{stderr}")


def build_wheels(out: Path, *projects: Path) -> dict[str, Path]:
    """Build a wheel of each project folder into ``out``; return them by distribution name."""
    # Without hatchling here, pip falls back to an isolated build env per project.
    args = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *args, "-w", str(out)]
        + [str(project) for project in projects],
        capture_output=True,
        text=True,
        env=_clean_env(**_PIP_ENV),
    )
    _check(result, "building wheels")
    wheels = {}
    for wheel in out.glob("*.whl"):
        # envdrift_core-12.0.0-py3-none-any.whl -> envdrift-core
        wheels[wheel.name.split("-")[0].replace("_", "-")] = wheel
    return wheels


class Venv:
    """A virtualenv without pip of its own, filled by the test run's pip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / "bin"
        result = subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(path)],
            capture_output=True,
            text=True,
            env=_clean_env(),
        )
        _check(result, "python -m venv")
        self.python = self.bin / "python"

    def install(self, *requirements: str | Path) -> None:
        """``pip install`` into this venv (no bytecode compilation: it is thrown away)."""
        pip = [sys.executable, "-m", "pip", "--python", str(self.python)]
        result = subprocess.run(
            [*pip, "install", "-q", "--no-compile", *map(str, requirements)],
            capture_output=True,
            text=True,
            env=_clean_env(**_PIP_ENV),
        )
        _check(result, f"pip install {' '.join(map(str, requirements))}")

    def run(
        self, *args: str, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command from this venv's ``bin`` (``args[0]`` is looked up there)."""
        argv = [str(self.bin / args[0]), *args[1:]]
        path = f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"
        env = _clean_env(VIRTUAL_ENV=str(self.path), PATH=path)
        result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env)
        if check:
            _check(result, " ".join(args))
        return result

    def distributions(self, prefix: str = "envdrift") -> set[str]:
        """Names of the installed distributions that start with ``prefix``."""
        code = (
            "import json; from importlib.metadata import distributions as d; "
            "print(json.dumps([x.metadata['Name'] for x in d()]))"
        )
        names = json.loads(self.run("python", "-c", code).stdout)
        return {name for name in names if name.startswith(prefix)}

    def version(self, distribution: str) -> str:
        """The version pip shows for ``distribution`` in this venv."""
        code = f"from importlib.metadata import version; print(version({distribution!r}))"
        return self.run("python", "-c", code).stdout.strip()

    def plugins(self) -> dict[str, dict[str, Any]]:
        """``envdrift plugins --json`` through the venv's console script, by plugin name."""
        document = json.loads(self.run("envdrift", "plugins", "--json").stdout)
        return {plugin["name"]: plugin for plugin in document["plugins"]}
