"""Building blocks for the ``envdrift run`` tests: encrypted files and a real process.

``envdrift run`` replaces its own process with the command (``exec``), so it is always
started as a separate process here, in a scrubbed environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from envdrift.dotenvx.crypto import Encryptor, generate_keypair
from envdrift.dotenvx.suffix import private_key_name, public_key_name

from tests.core.sync_helpers import Project

ENVDRIFT = [sys.executable, "-m", "envdrift"]

#: A command that prints its environment as JSON.
PRINT_ENV = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]


def encrypted_file(path: Path, values: Mapping[str, str], *, plain: str = "") -> str:
    """Write ``values`` encrypted (plus ``plain`` lines as written) to ``path`` with a new
    key pair; return the private key."""
    pair = generate_keypair()
    encryptor = Encryptor(pair.public_key)
    lines = [f'{public_key_name(path)}="{pair.public_key}"']
    lines += [f'{name}="{encryptor.encrypt(value)}"' for name, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + plain)
    return pair.private_key.reveal()


def keys_file(folder: Path, env_file: Path, key: str) -> Path:
    """Write ``folder/.env.keys`` holding ``key`` under the name dotenvx gives it."""
    path = folder / ".env.keys"
    path.write_text(f"{private_key_name(env_file)}={key}\n")
    return path


def scrubbed_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without keys or envdrift settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVDRIFT_", "DOTENV_"))}
    env["HOME"] = str(home)
    env.update(extra or {})
    return env


def envdrift_run(
    cwd: Path, *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``envdrift run ARGS`` in ``cwd``, output captured."""
    return subprocess.run(
        [*ENVDRIFT, "run", *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def refused_run(cwd: Path, env_file: str, exit_code: int) -> str:
    """``envdrift run -f ENV_FILE -- touch ran`` in ``cwd``, which must exit with
    ``exit_code`` without running the command; return its stderr."""
    result = envdrift_run(cwd, "-f", env_file, "--", "touch", "ran", env=scrubbed_env(cwd))
    assert result.returncode == exit_code, result.stderr
    assert not (cwd / "ran").exists()
    return result.stderr


def printed_env(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The environment ``PRINT_ENV`` printed (the last line of stdout)."""
    assert result.returncode == 0, result.stderr
    document: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return document


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def files_project(root: Path) -> Project:
    """A scratch project on the ``files`` vault in ``root`` (created)."""
    root.mkdir(parents=True, exist_ok=True)
    return Project(root, provider="files")


def write_config(project: Project) -> Path:
    """``project.write_config()``, with booleans (``Project`` quotes every value) bare."""
    path = project.write_config()
    path.write_text(path.read_text().replace('"True"', "true").replace('"False"', "false"))
    return path


def files_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A ``files`` project in ``tmp_path/repo``, made the working directory."""
    project = files_project(tmp_path / "repo")
    monkeypatch.chdir(project.root)
    return project


@pytest.fixture
def team_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A ``files`` project in ``tmp_path/repo``, the working directory of the test."""
    return files_checkout(tmp_path, monkeypatch)
