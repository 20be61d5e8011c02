"""``envdrift lock``: every local key checked against the vault first; any problem stops
everything before a file is encrypted; then every mapped env file is encrypted to the
vault's key. ``--check`` changes nothing and fails on plaintext.

Against the built-in ``files`` vault; the cloud backends have ``test_team_commands``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from envdrift.dotenvx.crypto import generate_keypair
from envdrift.dotenvx.operations import decrypt_file

from tests.core.run_helpers import snapshot, team_project, write_config
from tests.core.sync_helpers import KEY_A, KEY_B, Project, keys_line

Run = Callable[..., Result]


project = team_project


def plain_service(project: Project, folder: str, secret: str, key: str, **extra: object) -> Path:
    """``folder/.env.production`` in plaintext, the vault holding ``key`` as ``secret``."""
    project.service(folder)
    path = project.root / folder / ".env.production"
    path.write_text("TOKEN=secret-token\nURL=https://db\n")
    project.secret(secret, key)
    project.mappings.append({"secret_name": secret, "folder_path": folder, **extra})
    return path


def opens_with(path: Path, key: str) -> dict[str, str]:
    """The values ``key`` (and nothing else) decrypts from ``path``."""
    missing = path.parent / "no-such.keys"
    outcome = decrypt_file(
        path, keys_file=missing, environ={"DOTENV_PRIVATE_KEY_PRODUCTION": key}, write=False
    )
    assert outcome.decrypted, "nothing was encrypted"
    return {name: "ok" for name in outcome.decrypted}


def test_check_fails_on_plaintext_and_passes_after_lock(
    envdrift_cli: Run, project: Project
) -> None:
    api = plain_service(project, "api", "api-key", KEY_A)
    (project.root / "api" / ".env.keys").write_text(keys_line("production", KEY_A))
    write_config(project)
    before = snapshot(project.root)
    check = envdrift_cli("lock", "--check")
    assert check.exit_code == 1
    assert ".env.production: plaintext TOKEN, URL" in check.stdout
    assert snapshot(project.root) == before
    locked = envdrift_cli("lock")
    assert locked.exit_code == 0, locked.output
    assert "1 env files: 1 encrypted, 0 unchanged" in locked.stdout
    assert opens_with(api, KEY_A) == {"TOKEN": "ok", "URL": "ok"}
    again = envdrift_cli("lock", "--check", "--format", "json")
    assert again.exit_code == 0, again.output
    document = json.loads(again.stdout)
    assert document["command"] == "lock"
    assert document["mappings"][0]["files"][0]["outcome"] == "clean"
    assert envdrift_cli("lock").exit_code == 0  # nothing left: unchanged


def test_a_differing_local_key_stops_lock_force_with_every_file_unchanged(
    envdrift_cli: Run, project: Project
) -> None:
    plain_service(project, "api", "api-key", KEY_A)
    plain_service(project, "web", "web-key", KEY_B)
    (project.root / "api" / ".env.keys").write_text(keys_line("production", KEY_A))
    (project.root / "web" / ".env.keys").write_text(keys_line("production", KEY_A))  # stale
    write_config(project)
    before = snapshot(project.root)
    result = envdrift_cli("lock", "--force")
    assert result.exit_code == 1
    assert snapshot(project.root) == before
    assert "lock stopped before encrypting anything: 1 mapping not in line" in result.stderr
    assert "web (mapping 2): the local DOTENV_PRIVATE_KEY_PRODUCTION differs" in result.stderr
    assert "fix: envdrift sync --force (take the vault's key) or envdrift vault-push web " in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("setup", "problem", "fix"),
    [
        ("no-local-key", "is not in", "fix: envdrift sync --force"),
        ("no-secret", "not found", "fix: envdrift vault-push api api-key --env production"),
        ("foreign-file", "is encrypted to another key", "--verify-vault --repair"),
    ],
)
def test_every_problem_names_its_fix(
    envdrift_cli: Run, project: Project, setup: str, problem: str, fix: str
) -> None:
    api = plain_service(project, "api", "api-key", KEY_A)
    if setup != "no-local-key":
        (project.root / "api" / ".env.keys").write_text(keys_line("production", KEY_A))
    if setup == "no-secret":
        (project.root / "secrets" / "api-key").unlink()
    if setup == "foreign-file":
        other = generate_keypair().public_key
        api.write_text(f'DOTENV_PUBLIC_KEY_PRODUCTION="{other}"\n' + api.read_text())
    write_config(project)
    before = snapshot(project.root)
    result = envdrift_cli("lock", "--format", "json")
    assert result.exit_code == 1
    assert snapshot(project.root) == before
    row = json.loads(result.stdout)["mappings"][0]
    assert problem in row["problem"]
    assert fix.removeprefix("fix: ") in row["fix"]
    assert fix in envdrift_cli("lock").stderr


def test_ephemeral_mapping_locks_to_the_vault_key_without_writing_it(
    envdrift_cli: Run, project: Project
) -> None:
    api = plain_service(project, "api", "api-key", KEY_A, ephemeral_keys=True)
    write_config(project)
    result = envdrift_cli("lock")
    assert result.exit_code == 0, result.output
    assert not (project.root / "api" / ".env.keys").exists()
    assert opens_with(api, KEY_A)


def test_11x_flags_are_accepted(envdrift_cli: Run, project: Project) -> None:
    # envdrift 11.x scripts: `lock -f --verify-vault`, `lock --check --force` (its
    # pre-commit example), `pull -f`.
    api = plain_service(project, "api", "api-key", KEY_A)
    write_config(project)
    assert envdrift_cli("pull", "-f").exit_code == 0
    assert envdrift_cli("lock", "--check", "--force").exit_code == 1
    assert envdrift_cli("lock", "-f", "--verify-vault").exit_code == 0
    assert opens_with(api, KEY_A)
    assert envdrift_cli("lock", "--check", "--force").exit_code == 0


def test_help(envdrift_cli: Run) -> None:
    assert "--check" in envdrift_cli("lock", "--help").stdout


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ('[encryption]\nbackend = "sops"\n', "backend = 'sops'"),
        ("[partial_encryption]\nenabled = true\n", "[partial_encryption] enabled = true"),
    ],
)
def test_11x_settings_that_move_secrets_stop_lock_and_pull(
    envdrift_cli: Run, project: Project, section: str, named: str
) -> None:
    plain_service(project, "api", "api-key", KEY_A)
    (project.root / "api" / ".env.keys").write_text(keys_line("production", KEY_A))
    config = write_config(project)
    config.write_text(section + config.read_text())
    before = snapshot(project.root)
    for command in ("lock", "pull"):
        result = envdrift_cli(command)
        assert result.exit_code == 2
        assert named in result.stderr
        assert f"envdrift {command} cannot honour" in result.stderr
    assert snapshot(project.root) == before
    assert envdrift_cli("sync", "--verify").exit_code == 0  # the key job itself is unaffected
