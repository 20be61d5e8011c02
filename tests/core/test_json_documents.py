"""One JSON shape for every ``--format json`` command (docs/sync-json.md).

Each prints exactly one document on stdout that starts with ``version`` and ``command``
and ends with ``error`` (``null``, or the message also printed as ``Error: …``) and
``exit_code`` (the process's), also when it stops before doing any work: an unknown
provider, a config that does not parse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.core.sync_helpers import KEY_A, keys_line, one_service_on_files
from tests.helpers import SYNC_HEADER

#: Every command with --format json, as run in the project below.
COMMANDS = {
    "sync": ("sync", "--verify"),
    "pull": ("pull",),
    "lock": ("lock",),
    "vault-push": ("vault-push", "--verify"),
    "decrypt": ("decrypt", "services/api/.env.production", "--verify-vault"),
    "plugins": ("plugins",),
}
#: The commands that read a config and open a vault.
VAULT_COMMANDS = [name for name in COMMANDS if name != "plugins"]


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: Callable[..., Result]
) -> Path:
    """A files vault and one service whose key and encrypted file match it."""
    root = one_service_on_files(tmp_path)
    monkeypatch.chdir(root)
    (root / "services" / "api" / ".env.keys").write_text(keys_line("production", KEY_A))
    env_file = root / "services" / "api" / ".env.production"
    env_file.write_text("HELLO=world\n")
    assert envdrift_cli("encrypt", str(env_file), allow_keys=True).exit_code == 0
    return root


def document(result: Result) -> dict[str, Any]:
    """The one document on stdout, checked for the shape every command shares."""
    doc: dict[str, Any] = json.loads(result.stdout)  # exactly one document
    keys = list(doc)
    assert keys[:2] == ["version", "command"], keys
    assert keys[-2:] == ["error", "exit_code"], keys
    assert doc["version"] == 1
    assert doc["exit_code"] == result.exit_code
    if doc["error"] is not None:
        assert f"Error: {doc['error']}" in result.stderr
    return doc


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_writes_the_shared_shape(
    project: Path, envdrift_cli: Callable[..., Result], name: str
) -> None:
    result = envdrift_cli(*COMMANDS[name], "--format", "json")
    doc = document(result)
    assert doc["command"] == name
    assert (doc["error"], doc["exit_code"]) == (None, 0), result.output


@pytest.mark.parametrize("name", VAULT_COMMANDS)
def test_an_unknown_provider_is_still_one_document(
    project: Path, envdrift_cli: Callable[..., Result], name: str
) -> None:
    result = envdrift_cli(*COMMANDS[name], "-p", "nosuchvault", "--format", "json")
    assert result.exit_code == 2, result.output
    doc = document(result)
    assert doc["command"] == name
    assert "unknown vault 'nosuchvault'" in doc["error"]


@pytest.mark.parametrize("name", VAULT_COMMANDS)
def test_a_config_that_does_not_parse_is_still_one_document(
    project: Path, envdrift_cli: Callable[..., Result], name: str
) -> None:
    (project / "broken.toml").write_text("[vault\nprovider = 'files'\n")
    result = envdrift_cli(*COMMANDS[name], "-c", "broken.toml", "--format", "json")
    assert result.exit_code == 2, result.output
    doc = document(result)
    assert doc["command"] == name
    assert "broken.toml: invalid TOML" in doc["error"]


def test_a_secret_missing_from_the_vault_is_an_error_not_drift(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    (project.parent / "vault" / "api-key").unlink()
    for args in (("sync", "--verify"), ("sync", "--ci")):
        doc = document(envdrift_cli(*args, "--format", "json"))
        (mapping,) = doc["mappings"]
        assert (mapping["outcome"], mapping["ok"]) == ("error", False), args
        assert mapping["drift"] == "missing_secret"
        assert doc["summary"]["drift"] == 0
        assert doc["summary"]["error"] == 1


def test_a_verify_run_where_every_mapping_failed_does_not_say_no_drift(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    (project.parent / "vault" / "api-key").unlink()
    result = envdrift_cli("sync", "--verify")
    assert result.exit_code == 1
    summary = result.stdout.splitlines()[-1]
    assert "no drift" not in summary
    assert "nothing could be checked for drift" in summary


def test_tables_name_the_environment_column_alike(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    headers = {
        name: envdrift_cli(*COMMANDS[name]).stdout.splitlines()[0].split()
        for name in ("sync", "vault-push", "pull", "lock")
    }
    assert headers["sync"] == SYNC_HEADER
    assert headers["vault-push"] == SYNC_HEADER
    for name, header in headers.items():
        assert "ENVIRONMENT" in header, (name, header)
        assert "ENV" not in header, (name, header)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_usage_error_is_still_one_document(
    project: Path, envdrift_cli: Callable[..., Result], name: str
) -> None:
    # Click reports it (usage text on stderr, exit 2); stdout still parses, with only the
    # shared fields: the command never ran.
    result = envdrift_cli(*COMMANDS[name], "--format=json", "--no-such-option")
    assert result.exit_code == 2, result.output
    doc = document(result)
    assert list(doc) == ["version", "command", "error", "exit_code"]
    assert doc["command"] == name
    assert "--no-such-option" in doc["error"]
    assert "Usage: " in result.stderr


def test_a_bad_value_in_json_mode_is_a_document_and_in_text_mode_is_not(
    project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    as_json = envdrift_cli("sync", "--jobs", "0", "--format", "json")
    assert as_json.exit_code == 2
    assert "--jobs" in document(as_json)["error"]
    as_text = envdrift_cli("sync", "--jobs", "0")
    assert (as_text.exit_code, as_text.stdout) == (2, "")
    # `--json` asks for JSON too: where the command has no such flag, the document says so.
    assert document(envdrift_cli("plugins", "--json", "--bogus"))["command"] == "plugins"
    assert "--json" in document(envdrift_cli("sync", "--json"))["error"]
    # A command without JSON output never prints a document.
    assert envdrift_cli("encrypt", "--format", "json").stdout == ""
