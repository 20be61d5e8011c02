"""``envdrift pull``: sync every key, then decrypt every mapped env file in place.

Against the built-in ``files`` vault; the cloud backends run the same command in their
own ``test_team_commands`` tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from envdrift.dotenvx.envfile import EnvFile

from tests.core.run_helpers import (
    encrypted_file,
    snapshot,
    team_project,
    write_config,
)
from tests.core.sync_helpers import KEY_A, Project

Run = Callable[..., Result]


project = team_project


def values(path: Path) -> dict[str, str | None]:
    return {e.key: e.value for e in EnvFile(path.read_text()).entries}


def service(project: Project, folder: str, secret: str, **extra: str | bool) -> Path:
    """An encrypted ``folder/.env.production`` whose key the vault holds as ``secret``."""
    path = project.root / folder / ".env.production"
    key = encrypted_file(path, {"TOKEN": f"{folder}-token", "URL": "https://x"})
    project.secret(secret, key)
    project.mappings.append({"secret_name": secret, "folder_path": folder, **extra})
    return path


def test_pull_syncs_keys_and_decrypts_every_mapped_file(
    envdrift_cli: Run, project: Project
) -> None:
    api = service(project, "api", "api-key")
    web = service(project, "web", "web-key")
    write_config(project)
    result = envdrift_cli("pull", "--format", "json")
    assert result.exit_code == 0, result.output
    assert values(api)["TOKEN"] == "api-token"
    assert values(web)["TOKEN"] == "web-token"
    assert (project.root / "api" / ".env.keys").exists()
    document = json.loads(result.stdout)
    assert document["command"] == "pull"
    first = document["mappings"][0]
    assert first["outcome"] == "created"
    assert first["decrypt"] == {
        "ok": True,
        "skipped": None,
        "files": [
            {"path": "api/.env.production", "outcome": "decrypted", "values": 2, "reason": ""}
        ],
    }
    assert document["summary"]["files_decrypted"] == 2
    again = envdrift_cli("pull")
    assert again.exit_code == 0, again.output
    assert "2 env files: 0 decrypted, 2 unchanged" in again.stdout


def test_pull_says_how_the_plaintext_goes_back_before_a_commit(
    envdrift_cli: Run, project: Project
) -> None:
    service(project, "api", "api-key")
    service(project, "web", "web-key")
    write_config(project)
    first = envdrift_cli("pull")
    assert first.exit_code == 0, first.output
    assert "2 env files now hold plaintext: run 'envdrift lock' before you commit" in first.stderr
    again = envdrift_cli("pull")
    assert "plaintext" not in again.stderr


def test_ephemeral_pull_writes_no_key(envdrift_cli: Run, project: Project) -> None:
    api = service(project, "api", "api-key", ephemeral_keys=True)
    write_config(project)
    result = envdrift_cli("pull")
    assert result.exit_code == 0, result.output
    assert values(api)["TOKEN"] == "api-token"
    assert not (project.root / "api" / ".env.keys").exists()
    assert "ephemeral" in result.stdout


def test_a_mapping_whose_sync_failed_is_not_decrypted(envdrift_cli: Run, project: Project) -> None:
    api = service(project, "api", "api-key")
    web = service(project, "web", "web-key")
    (project.root / "secrets" / "web-key").unlink()
    write_config(project)
    before = snapshot(project.root / "web")
    result = envdrift_cli("pull", "--format", "json")
    assert result.exit_code == 1
    assert values(api)["TOKEN"] == "api-token"
    assert snapshot(project.root / "web") == before
    assert values(web)["TOKEN"] != "web-token"
    web_row = json.loads(result.stdout)["mappings"][1]
    assert web_row["outcome"] == "error"
    assert web_row["decrypt"]["skipped"] == "not decrypted: the sync step failed"
    text = envdrift_cli("pull")
    assert "1 mapping not decrypted" in text.stdout


def test_a_file_the_key_does_not_open_stays_as_it_is(envdrift_cli: Run, project: Project) -> None:
    api = service(project, "api", "api-key")
    project.secret("api-key", KEY_A)
    write_config(project)
    before = api.read_bytes()
    result = envdrift_cli("pull", "--format", "json")
    assert result.exit_code == 1
    assert api.read_bytes() == before
    row = json.loads(result.stdout)["mappings"][0]
    assert row["outcome"] == "created"
    assert row["decrypt"]["files"][0]["outcome"] == "error"
    assert "could not decrypt TOKEN, URL" in row["decrypt"]["files"][0]["reason"]


def test_env_file_names_the_one_file(envdrift_cli: Run, project: Project) -> None:
    custom = project.root / "api" / ".env.prod"
    key = encrypted_file(custom, {"TOKEN": "custom"})
    other = project.root / "api" / ".env.production"
    encrypted_file(other, {"TOKEN": "other"})
    project.secret("api-key", key)
    project.mappings.append(
        {"secret_name": "api-key", "folder_path": "api", "env_file": ".env.prod"}
    )
    write_config(project)
    before = other.read_bytes()
    result = envdrift_cli("pull")
    assert result.exit_code == 0, result.output
    assert values(custom)["TOKEN"] == "custom"
    assert other.read_bytes() == before


def test_help(envdrift_cli: Run) -> None:
    assert "--profile" in envdrift_cli("pull", "--help").stdout
