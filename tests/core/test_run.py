"""``envdrift run``: keys from the environment, the vault or .env.keys; values in memory
only; the command's exit status and signals are its own.

Each test starts envdrift as a real process (it ``exec``s the command). The vault is the
built-in ``files`` vault; the cloud backends have their own ``run`` tests.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.run_helpers import (
    ENVDRIFT,
    PRINT_ENV,
    encrypted_file,
    envdrift_run,
    keys_file,
    printed_env,
    refused_run,
    scrubbed_env,
    snapshot,
)
from tests.helpers import assert_no_private_key

VALUES = {"DATABASE_URL": "postgres://u:p@db/app", "API_TOKEN": "tok-123"}


def files_project(root: Path, key: str | None, *, folder: str = "api") -> None:
    """An ``envdrift.toml`` mapping ``folder`` to a ``files`` vault holding ``key``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n\n[vault.files]\npath = "secrets"\n\n'
        f'[[vault.sync.mappings]]\nsecret_name = "api-key"\nfolder_path = "{folder}"\n'
        'environment = "production"\n'
    )
    (root / "secrets").mkdir(exist_ok=True)
    if key is not None:
        (root / "secrets" / "api-key").write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={key}\n")


def test_key_from_keys_file_reaches_command_and_nothing_changes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.production"
    key = encrypted_file(env_file, VALUES, plain="PLAIN=visible\n")
    keys_file(tmp_path, env_file, key)
    before = snapshot(tmp_path)
    result = envdrift_run(
        tmp_path, "-f", ".env.production", "--", *PRINT_ENV, env=scrubbed_env(tmp_path)
    )
    got = printed_env(result)
    assert {name: got[name] for name in VALUES} == VALUES
    assert got["PLAIN"] == "visible"
    assert not any(name.startswith("DOTENV_PRIVATE_KEY") for name in got)
    assert snapshot(tmp_path) == before
    assert_no_private_key(result.stderr, "stderr")


def test_clone_without_keys_file_uses_the_mappings_vault_and_writes_nothing(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "api" / ".env.production"
    key = encrypted_file(env_file, VALUES)
    files_project(tmp_path, key)
    before = snapshot(tmp_path)
    result = envdrift_run(
        tmp_path, "-f", "api/.env.production", "--", *PRINT_ENV, env=scrubbed_env(tmp_path)
    )
    got = printed_env(result)
    assert {name: got[name] for name in VALUES} == VALUES
    assert snapshot(tmp_path) == before  # no .env.keys, no temp file
    assert not (tmp_path / "api" / ".env.keys").exists()
    assert_no_private_key(result.stdout + result.stderr)


def test_a_key_in_the_environment_wins_and_the_vault_is_not_asked(tmp_path: Path) -> None:
    env_file = tmp_path / "api" / ".env.production"
    key = encrypted_file(env_file, VALUES)
    files_project(tmp_path, None)  # the vault has no such secret: asking it would fail
    env = scrubbed_env(tmp_path, {"DOTENV_PRIVATE_KEY_PRODUCTION": key})
    result = envdrift_run(tmp_path / "api", "-f", ".env.production", "--", *PRINT_ENV, env=env)
    assert printed_env(result)["API_TOKEN"] == "tok-123"


def test_vault_before_keys_file_and_keys_file_when_the_vault_fails(tmp_path: Path) -> None:
    env_file = tmp_path / "api" / ".env.production"
    key = encrypted_file(env_file, VALUES)
    keys_file(tmp_path / "api", env_file, key)
    files_project(tmp_path, None)  # the secret is missing: NotFoundError
    result = envdrift_run(
        tmp_path, "-f", "api/.env.production", "--", *PRINT_ENV, env=scrubbed_env(tmp_path)
    )
    assert printed_env(result)["API_TOKEN"] == "tok-123"
    assert "the vault failed" in result.stderr
    assert "'api-key' not found" in result.stderr
    (tmp_path / "api" / ".env.keys").unlink()
    assert "'api-key' not found" in refused_run(tmp_path, "api/.env.production", 1)


def test_wrong_key_stops_before_the_command_naming_keys_never_values(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.production"
    encrypted_file(env_file, VALUES)
    other = encrypted_file(tmp_path / "other" / ".env.production", {"X": "y"})
    keys_file(tmp_path, env_file, other)
    stderr = refused_run(tmp_path, ".env.production", 1)
    assert "DATABASE_URL, API_TOKEN in .env.production" in stderr
    assert "could not decrypt" in stderr
    for value in VALUES.values():
        assert value not in stderr
    assert "encrypted:" not in stderr
    assert_no_private_key(stderr)


def test_exit_status_is_the_commands(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    result = envdrift_run(
        tmp_path, "--", "sh", "-c", 'exit "$((A + 6))"', env=scrubbed_env(tmp_path)
    )
    assert result.returncode == 7


def test_command_not_found_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    missing_cmd = envdrift_run(tmp_path, "--", "no-such-command-xyz", env=scrubbed_env(tmp_path))
    assert missing_cmd.returncode == 127
    assert "command not found: no-such-command-xyz" in missing_cmd.stderr
    assert ".env.nope: no such env file" in refused_run(tmp_path, ".env.nope", 2)


def test_order_precedence_and_overload(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=from-env-file\nB=first\nC=$A-$B\n")
    (tmp_path / ".env.local").write_text("B=second\nD=local\n")
    env = scrubbed_env(tmp_path, {"A": "from-shell"})
    plain = printed_env(envdrift_run(tmp_path, "-f", ".env,.env.local", "--", *PRINT_ENV, env=env))
    assert (plain["A"], plain["B"], plain["C"], plain["D"]) == (
        "from-shell",
        "first",
        "from-shell-first",
        "local",
    )
    over = printed_env(
        envdrift_run(
            tmp_path, "-f", ".env", "-f", ".env.local", "--overload", "--", *PRINT_ENV, env=env
        )
    )
    assert (over["A"], over["B"], over["C"]) == ("from-env-file", "second", "from-env-file-first")


def test_command_substitution_is_not_executed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=$(touch pwned)\n")
    result = envdrift_run(tmp_path, "--", *PRINT_ENV, env=scrubbed_env(tmp_path))
    assert printed_env(result)["A"] == "$(touch pwned)"
    assert not (tmp_path / "pwned").exists()
    assert "A holds $(…), which envdrift run does not execute" in result.stderr


def test_signals_reach_the_command(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    script = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [*ENVDRIFT, "run", "--", sys.executable, "-c", script],
        cwd=tmp_path,
        env=scrubbed_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 42


def test_arguments_after_the_command_are_its_own(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    result = envdrift_run(
        tmp_path, "sh", "-c", 'echo "$A $0 $1"', "--overload", "-f", env=scrubbed_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 --overload -f"


def test_help() -> None:
    result = subprocess.run(
        [*ENVDRIFT, "run", "--help"], capture_output=True, text=True, check=True
    )
    assert "--overload" in result.stdout
    assert "-- CMD" in result.stdout


@pytest.mark.parametrize("folder_arg", ["api", "api/"])
def test_a_folder_means_its_env(tmp_path: Path, folder_arg: str) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / ".env").write_text("A=folder\n")
    result = envdrift_run(tmp_path, "-f", folder_arg, "--", *PRINT_ENV, env=scrubbed_env(tmp_path))
    assert printed_env(result)["A"] == "folder"


def test_without_a_configuration_no_pydantic_and_no_plugin_is_imported(tmp_path: Path) -> None:
    # `run` starts on every command a developer types: finding no envdrift.toml must
    # not cost the import of the config schema (pydantic) or of the plugins.
    env_file = tmp_path / ".env.production"
    keys_file(tmp_path, env_file, encrypted_file(env_file, VALUES))
    probe = (
        "import os, sys\n"
        "def exec_instead(*args):\n"
        "    heavy = sorted(m for m in ('pydantic', 'envdrift.config', 'envdrift.plugins')"
        " if m in sys.modules)\n"
        "    print(heavy)\n"
        "    sys.exit(0)\n"
        "os.execvpe = exec_instead\n"
        "from envdrift.cli import main\n"
        "sys.argv = ['envdrift', 'run', '-f', '.env.production', '--', 'true']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=scrubbed_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
