"""Strict config: under ``--ci`` or ``ENVDRIFT_STRICT=1`` a key envdrift does not read is an
error (exit 2, naming the key and the did-you-mean, nothing written); otherwise a warning
that every command reading the config prints, once.

The misspelling is the one that matters: ``enviroment = "staging"`` leaves the mapping on
the default environment, so a lenient run writes the production key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.core.sync_helpers import KEY_A, KEY_B, keys_line, one_service_on_files

MISSPELT = "envdrift.toml: unknown key vault.sync.mappings[1].enviroment"
HINT = "Did you mean 'environment'?"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A files vault holding the staging key; the mapping misspells ``environment``."""
    root = one_service_on_files(tmp_path, 'enviroment = "staging"\n')
    monkeypatch.chdir(root)
    return root


def keys_file(project: Path) -> Path:
    return project / "services" / "api" / ".env.keys"


def assert_refused(result: Result, switch: str = "--ci") -> None:
    assert result.exit_code == 2, result.output
    assert f"Error: {MISSPELT}. {HINT}" in result.stderr
    assert f"{switch} makes what envdrift would ignore in the config an error" in result.stderr
    assert "Warning:" not in result.stderr


def test_sync_without_ci_warns_once_and_goes_on(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    result = envdrift_cli("sync")
    assert result.exit_code == 0, result.output
    assert result.stderr.count(f"Warning: {MISSPELT} is ignored. {HINT}") == 1
    assert keys_line("production", KEY_A) in keys_file(project).read_text()


def test_sync_ci_refuses_the_misspelt_key_and_writes_nothing(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    assert_refused(envdrift_cli("sync", "--ci"))
    assert not keys_file(project).exists()


def test_envdrift_strict_does_the_same_without_ci(
    project: Path, envdrift_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVDRIFT_STRICT", "1")
    assert_refused(envdrift_cli("sync", "--force"), "ENVDRIFT_STRICT=1")
    assert not keys_file(project).exists()
    monkeypatch.setenv("ENVDRIFT_STRICT", "0")
    assert envdrift_cli("sync").exit_code == 0


def test_sync_ci_json_is_one_document_with_the_error(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    result = envdrift_cli("sync", "--ci", "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["exit_code"] == 2
    assert MISSPELT in document["error"]
    assert HINT in document["error"]


def test_decrypt_verify_vault_ci_refuses_it(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    env_file = project / "services" / "api" / ".env.production"
    env_file.write_text("HELLO=world\n")
    assert envdrift_cli("encrypt", str(env_file), allow_keys=True).exit_code == 0
    before = env_file.read_bytes()
    assert_refused(envdrift_cli("decrypt", str(env_file), "--verify-vault", "--ci"))
    assert env_file.read_bytes() == before


def test_decrypt_verify_vault_without_ci_prints_the_warning(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    env_file = project / "services" / "api" / ".env.production"
    env_file.write_text("HELLO=world\n")
    envdrift_cli("encrypt", str(env_file), allow_keys=True)
    result = envdrift_cli("decrypt", str(env_file), "--verify-vault")
    assert result.stderr.count(f"Warning: {MISSPELT} is ignored. {HINT}") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ("vault-push", "--ci"),
        ("rotate", "services/api/.env.production", "--ci"),
        ("pull", "--ci"),
    ],
    ids=lambda argv: argv[0],
)
def test_every_other_command_reading_the_config_refuses_it_under_ci(
    project: Path, envdrift_cli: Callable[..., Result], argv: tuple[str, ...]
) -> None:
    keys_file(project).write_text(keys_line("production", KEY_B))
    (project / "services" / "api" / ".env.production").write_text("A=1\n")
    vault_before = (project.parent / "vault" / "api-key").read_text()
    assert_refused(envdrift_cli(*argv))
    assert (project.parent / "vault" / "api-key").read_text() == vault_before
    assert keys_file(project).read_text() == keys_line("production", KEY_B)


@pytest.mark.parametrize(
    "argv", [("lock",), ("run", "--", "true"), ("vault-push", "--verify")], ids=str
)
def test_commands_without_ci_follow_envdrift_strict(
    project: Path,
    envdrift_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    keys_file(project).write_text(keys_line("production", KEY_B))
    monkeypatch.setenv("ENVDRIFT_STRICT", "true")
    assert_refused(envdrift_cli(*argv), "ENVDRIFT_STRICT=1")


def test_vault_push_prints_the_warning(project: Path, envdrift_cli: Callable[..., Result]) -> None:
    keys_file(project).write_text(keys_line("production", KEY_A))
    result = envdrift_cli("vault-push", "--verify")
    assert result.stderr.count(f"Warning: {MISSPELT} is ignored. {HINT}") == 1


def test_an_unknown_vault_table_is_refused_under_ci(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    config = project / "envdrift.toml"
    config.write_text(config.read_text().replace("enviroment", "environment") + "[vault.filez]\n")
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 2, result.output
    assert "[vault.filez] matches no installed vault. Did you mean 'files'?" in result.stderr
    assert not keys_file(project).exists()


def test_vault_push_refuses_an_unknown_vault_table_too(
    project: Path, envdrift_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = project / "envdrift.toml"
    config.write_text(config.read_text().replace("enviroment", "environment") + "[vault.filez]\n")
    keys_file(project).write_text(keys_line("production", KEY_B))
    warned = envdrift_cli("vault-push", "--verify")
    assert warned.stderr.count("[vault.filez] matches no installed vault and is ignored") == 1
    refused = envdrift_cli("vault-push", "--ci", "--force")
    assert refused.exit_code == 2, refused.output
    assert (project.parent / "vault" / "api-key").read_text() == KEY_A
