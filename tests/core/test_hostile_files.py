"""Files that are not what they claim: FIFOs, keys files passed as config, huge env files,
read-only keys files, and vault keys that would replace a working local key.

Every case must end in one clear line (or a mapping's reason), never a hang, never a
key or plaintext in the output, and never a write that loses what worked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from envdrift.dotenvx.crypto import generate_keypair
from envdrift.dotenvx.keysfile import KeysFile

from tests.core.hostile import returns_within
from tests.core.run_helpers import files_checkout
from tests.core.sync_helpers import KEY_A, Project, keys_line
from tests.helpers import sync_errors

Run = Callable[..., Result]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """One service ``app`` mapped to secret ``app-key`` of the ``files`` vault."""
    project = files_checkout(tmp_path, monkeypatch)
    project.service("app")
    project.map("app-key", "app", environment="production")
    project.write_config()
    return project


def encrypted_app(project: Project, envdrift_cli: Run) -> Path:
    """Encrypt ``app/.env.production`` (its key lands in ``app/.env.keys``)."""
    env = project.root / "app" / ".env.production"
    env.write_text("TOKEN=abc\n")
    assert envdrift_cli("encrypt", str(env)).exit_code == 0
    return env


# -- keys and env files passed as the config -----------------------------------------


@pytest.mark.parametrize("name", ["app/.env.keys", "app/.env.production"])
def test_an_env_or_keys_file_as_config_is_a_usage_error_that_shows_nothing(
    project: Project, envdrift_cli: Run, name: str
) -> None:
    encrypted_app(project, envdrift_cli)
    result = envdrift_cli("sync", "-c", name)  # envdrift_cli fails on any private key in the output
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {name} is an env or keys file, not a config")
    as_json = envdrift_cli("sync", "-c", name, "--format", "json")
    assert as_json.exit_code == 2
    assert f"{name} is an env or keys file, not a config" in as_json.stdout
    for output in (result.output, as_json.output):
        assert "TOKEN" not in output
        assert "encrypted:" not in output


# -- FIFOs --------------------------------------------------------------------------


def test_a_fifo_as_config_is_refused_without_waiting(project: Project, envdrift_cli: Run) -> None:
    os.mkfifo(project.root / "pair.txt")
    result = returns_within(10, lambda: envdrift_cli("sync", "-c", "pair.txt"))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: cannot read config file pair.txt: it is a named pipe (FIFO), not a regular "
        "file; envdrift reads only regular files\n"
    )


def test_a_fifo_keys_file_fails_its_mapping_without_waiting(
    project: Project, envdrift_cli: Run
) -> None:
    project.secret("app-key", KEY_A)
    os.mkfifo(project.root / "app" / ".env.keys")
    result = returns_within(10, lambda: envdrift_cli("sync", "--force"))
    assert result.exit_code == 1
    assert "it is a named pipe (FIFO), not a regular file" in sync_errors(result)["app"]


@pytest.mark.parametrize("command", ["encrypt", "decrypt"])
def test_a_fifo_env_file_is_refused_without_waiting(
    project: Project, envdrift_cli: Run, command: str
) -> None:
    os.mkfifo(project.root / "app" / ".env")
    result = returns_within(10, lambda: envdrift_cli(command, "app/.env"))
    assert result.exit_code == 1
    assert "it is a named pipe (FIFO), not a regular file" in result.stderr


def test_a_fifo_keys_file_is_refused_by_encrypt_and_decrypt(
    project: Project, envdrift_cli: Run
) -> None:
    env, keys = project.root / "app" / ".env", project.root / "app" / ".env.keys"
    env.write_text("A=1\n")
    os.mkfifo(keys)
    result = returns_within(10, lambda: envdrift_cli("encrypt", "app/.env"))
    assert result.exit_code == 1
    assert "it is a named pipe (FIFO), not a regular file" in result.stderr
    assert env.read_text() == "A=1\n"
    keys.unlink()
    assert envdrift_cli("encrypt", "app/.env").exit_code == 0
    keys.unlink()
    os.mkfifo(keys)
    result = returns_within(10, lambda: envdrift_cli("decrypt", "app/.env"))
    assert result.exit_code == 1
    assert "it is a named pipe (FIFO), not a regular file" in result.stderr


# -- sync --check-decryption and --force ------------------------------------------------


def test_check_decryption_names_an_env_file_too_large_to_read(
    project: Project, envdrift_cli: Run
) -> None:
    project.secret("app-key", KEY_A)
    with (project.root / "app" / ".env.production").open("wb") as huge:
        huge.truncate(100 << 20)  # 100 MB (sparse: costs no disk)
    result = envdrift_cli("sync", "--check-decryption")
    assert result.exit_code == 1
    assert "is 100.0 MiB, over the limit of 10.0 MiB for an env file" in result.stdout
    assert "declares" not in result.stdout


def test_force_on_a_read_only_keys_file_writes_no_backup(
    project: Project, envdrift_cli: Run
) -> None:
    project.secret("app-key", KEY_A)
    keys = project.root / "app" / ".env.keys"
    keys.write_text(keys_line("production", generate_keypair().private_key.reveal()))
    keys.chmod(0o400)
    before = keys.read_bytes()
    result = envdrift_cli("sync", "--force")
    assert result.exit_code == 1
    assert "the file is read-only (mode 0400)" in sync_errors(result)["app"]
    assert keys.read_bytes() == before
    assert sorted(p.name for p in keys.parent.iterdir()) == [".env.keys"]  # no backup


def test_force_with_check_decryption_keeps_a_working_local_key(
    project: Project, envdrift_cli: Run
) -> None:
    env = encrypted_app(project, envdrift_cli)
    keys = env.parent / ".env.keys"
    working = keys.read_bytes()
    project.secret("app-key", generate_keypair().private_key.reveal())  # opens nothing here
    result = envdrift_cli("sync", "--force", "--check-decryption")
    assert result.exit_code == 1
    reason = sync_errors(result)["app"]
    assert reason.startswith(
        "the vault's DOTENV_PRIVATE_KEY_PRODUCTION does not decrypt .env.production; "
        "the local key was kept."
    )
    assert "envdrift vault-push --force" in reason
    assert keys.read_bytes() == working
    assert not list(keys.parent.glob(".env.keys.backup.*"))
    local = KeysFile.read(keys).get("DOTENV_PRIVATE_KEY_PRODUCTION")
    assert local is not None
    (project.root / "secrets" / "app-key").write_text(local.reveal())
    assert envdrift_cli("sync", "--check-decryption").exit_code == 0
