"""``ephemeral_keys``: the vault's key is fetched and checked, and never written.

As in envdrift 11, the switch sits in ``[vault.sync]`` and on each mapping (the
mapping's wins). ``sync`` reports the outcome ``ephemeral``; ``--check-decryption``
proves the key in memory; nothing named ``.env.keys`` (or a backup, or a temp file)
appears.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

from tests.core.run_helpers import (
    encrypted_file,
    snapshot,
    team_project,
    write_config,
)
from tests.core.sync_helpers import KEY_A, Project, keys_line
from tests.helpers import sync_rows

Run = Callable[..., Result]


project = team_project


def ephemeral_project(project: Project, *, central: bool) -> str:
    """Two services: ``api`` (ephemeral, with an encrypted file) and ``web`` (written
    unless ``central``); return the api key."""
    api_key = encrypted_file(project.root / "api" / ".env.production", {"TOKEN": "t"})
    project.secret("api-key", f"DOTENV_PRIVATE_KEY_PRODUCTION={api_key}")
    project.secret("web-key", encrypted_file(project.root / "web" / ".env.production", {"A": "a"}))
    if central:
        project.sync_extra = "ephemeral_keys = true"
        project.map("api-key", "api")
    else:
        project.mappings.append(
            {"secret_name": "api-key", "folder_path": "api", "ephemeral_keys": True}
        )
    project.map("web-key", "web")
    write_config(project)
    return api_key


def test_mapping_switch_fetches_checks_and_writes_nothing(
    envdrift_cli: Run, project: Project
) -> None:
    ephemeral_project(project, central=False)
    before = snapshot(project.root / "api")
    result = envdrift_cli("sync", "--check-decryption", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    api, web = document["mappings"]
    assert (api["outcome"], api["ok"], api["local_value"]) == ("ephemeral", True, None)
    assert api["decryption"]["ok"] is True
    assert api["decryption"]["files"][0]["checked"] == 1
    assert web["outcome"] == "created"
    assert document["summary"]["ephemeral"] == 1
    assert snapshot(project.root / "api") == before  # no .env.keys, backup or temp file
    assert (project.root / "web" / ".env.keys").exists()


def test_central_switch_and_table(envdrift_cli: Run, project: Project) -> None:
    ephemeral_project(project, central=True)
    result = envdrift_cli("sync", "--force")
    assert result.exit_code == 0, result.output
    rows = sync_rows(result)
    assert [row[3] for row in rows] == ["ephemeral", "ephemeral"]
    assert "2 mappings: 2 ephemeral" in result.stdout
    assert not (project.root / "api" / ".env.keys").exists()
    assert not (project.root / "web" / ".env.keys").exists()


def test_ephemeral_key_for_another_environment_is_an_error(
    envdrift_cli: Run, project: Project
) -> None:
    ephemeral_project(project, central=True)
    project.secret("api-key", keys_line("staging", KEY_A))
    result = envdrift_cli("sync", "--format", "json")
    assert result.exit_code == 1
    api = json.loads(result.stdout)["mappings"][0]
    assert api["outcome"] == "error"
    assert "STAGING" in api["reason"]
    assert not (project.root / "api" / ".env.keys").exists()


def test_ephemeral_key_that_does_not_decrypt_fails_the_check(
    envdrift_cli: Run, project: Project
) -> None:
    ephemeral_project(project, central=True)
    project.secret("api-key", KEY_A)  # a valid key, not the file's
    result = envdrift_cli("sync", "--check-decryption", "--format", "json")
    assert result.exit_code == 1
    api = json.loads(result.stdout)["mappings"][0]
    assert (api["outcome"], api["decryption"]["ok"]) == ("ephemeral", False)


def test_verify_reports_ephemeral_not_drift(envdrift_cli: Run, project: Project) -> None:
    ephemeral_project(project, central=True)
    result = envdrift_cli("sync", "--verify")
    assert result.exit_code == 0, result.output
    assert "no drift" in result.stdout
