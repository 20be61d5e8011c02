"""The tools compared: ours, envdrift 11.1.1 from PyPI, and the dotenvx CLI.

envdrift 11.1.1 (with its vault extras) gets a venv of its own, ``.bench/envdrift-11.1.1``
(git-ignored). dotenvx is the pinned CLI of ``scripts/bootstrap.sh`` (or
``$ENVDRIFT_DOTENVX``). envdrift 11.1.1 shells out to dotenvx: it would download its pinned
2.34.2 only with ``auto_install`` (off by default), else takes ``dotenvx`` from its venv's
``bin/``, then ``PATH``; ours is linked there, so both envdrifts use the same dotenvx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
THEIRS_VERSION = "11.1.1"
THEIRS_REQUIREMENT = f"envdrift[aws,hashicorp,azure]=={THEIRS_VERSION}"
DEFAULT_DOTENVX = REPO_ROOT / ".tools" / "dotenvx" / "node_modules" / ".bin" / "dotenvx"
#: dotenvx 2.x also looks for keys in Dotenvx Armor (a network service), the OS keychain,
#: 1Password and Bitwarden, and reports events to Armor in the background. Switched off
#: wherever dotenvx runs (on its own or under envdrift 11.1.1): offline they could only
#: add time, and our envdrift makes no such lookups. This can only favour the competitors.
DOTENVX_ENV = {
    "DOTENVX_NO_ARMOR": "true",
    "DOTENVX_NO_NATIVE": "true",
    "DOTENVX_NO_1PASSWORD": "true",
    "DOTENVX_NO_BITWARDEN": "true",
}


@dataclass(frozen=True)
class Tool:
    """A program under test and the environment entries it needs."""

    key: str
    label: str
    program: Path
    version: str
    env: Mapping[str, str] = field(default_factory=dict)

    def argv(self, *args: str) -> tuple[str, ...]:
        return (str(self.program), *args)

    def environment(self, base: Mapping[str, str], *extra: Mapping[str, str]) -> dict[str, str]:
        """``base`` plus this tool's entries plus ``extra``; ``PATH`` entries are prepended."""
        merged = dict(base)
        for layer in (self.env, *extra):
            for name, value in layer.items():
                if name == "PATH" and merged.get("PATH"):
                    merged[name] = f"{value}{os.pathsep}{merged['PATH']}"
                else:
                    merged[name] = value
        return merged


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: no credentials, keys or vault settings of the person running.

    Every scenario adds exactly what it needs (vault endpoints, tokens), the same for each
    tool. ``HOME`` is a scratch folder so no ``~/.aws``, ``~/.vault-token`` or dotenvx
    state of the machine is read.
    """
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "COLUMNS": "120",
        "NO_COLOR": "1",
    }


def ours() -> Tool:
    """The envdrift of this repository, from the environment running the harness."""
    from importlib.metadata import version

    program = Path(sys.executable).parent / "envdrift"
    core = version("envdrift-core")
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        ).stdout.strip()
    except OSError:
        commit = ""
    detail = f"envdrift-core {core}" + (f", commit {commit}" if commit else "")
    return Tool("ours", "envdrift (this repo)", program, detail)


def dotenvx() -> Tool | None:
    """The pinned dotenvx CLI, or ``None`` when it is not installed."""
    program = Path(os.environ.get("ENVDRIFT_DOTENVX", DEFAULT_DOTENVX))
    if not program.exists():
        return None
    # npm links bin/dotenvx to <package>/src/cli/dotenvx.js; its package.json has the
    # version (cheaper than starting Node for `dotenvx --version`).
    manifest = program.resolve().parent.parent.parent / "package.json"
    version = json.loads(manifest.read_text())["version"] if manifest.exists() else "?"
    return Tool("dotenvx", f"dotenvx {version}", program, version, DOTENVX_ENV)


def install_theirs(bench_dir: Path, dotenvx_tool: Tool | None) -> Tool:
    """Install envdrift 11.1.1 (with its vault extras) into its own venv, once."""
    venv = bench_dir / f"envdrift-{THEIRS_VERSION}"
    stamp = venv / ".envdrift-bench-stamp"
    if not stamp.exists() or stamp.read_text() != THEIRS_REQUIREMENT:
        print(f"bench: installing {THEIRS_REQUIREMENT} into {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", THEIRS_REQUIREMENT],
            check=True,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
        stamp.write_text(THEIRS_REQUIREMENT)
    link = venv / "bin" / "dotenvx"
    if dotenvx_tool is not None:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(dotenvx_tool.program.resolve())
    env = {"PATH": str(venv / "bin"), "VIRTUAL_ENV": str(venv), **DOTENVX_ENV}
    program = venv / "bin" / "envdrift"
    detail = f"{THEIRS_REQUIREMENT} from PyPI, in its own venv, using the dotenvx below"
    return Tool("theirs", f"envdrift {THEIRS_VERSION}", program, detail, env)
