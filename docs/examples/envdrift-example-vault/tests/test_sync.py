"""``envdrift sync`` end to end with the jsonfile vault, as the tutorial shows it."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift import Secret, VaultContext
from envdrift_example_vault import JsonFileVault

if TYPE_CHECKING:
    from envdrift.testing.fixtures import CliRunnerFixture

EXAMPLE_PROJECT = Path(__file__).resolve().parent.parent / "example"


def test_sync_writes_the_key_from_the_json_file(
    envdrift_cli: CliRunnerFixture, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE_PROJECT, project)
    (project / "services" / "api").mkdir(parents=True)
    key = secrets.token_hex(32)
    vault = JsonFileVault({"path": "secrets.json"}, VaultContext(base_dir=project))
    vault.store("api-dotenvx-key", Secret(key))

    result = envdrift_cli("sync", "--ci", cwd=project)

    assert result.exit_code == 0, result.stderr
    keys = (project / "services" / "api" / ".env.keys").read_text()
    assert "DOTENV_PRIVATE_KEY_PRODUCTION" in keys
    assert key in keys
    # Nothing changes on a second run: the local key already matches the vault.
    assert envdrift_cli("sync", "--verify", cwd=project).exit_code == 0
