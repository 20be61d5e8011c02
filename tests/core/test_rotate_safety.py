"""``rotate`` never leaves the vault and the files disagreeing.

Every local file it will replace is checked before the vault is touched; any failure
after the vault changed puts the env file back and rolls the vault back; and each state
a kill between the steps can leave is named by ``sync --check-decryption`` and repaired
by the command the docs give.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from envdrift import PluginRegistry, Secret, Vault, VaultContext, hookimpl
from envdrift.builtins.files import FilesVault

from tests.helpers import sync_errors
from tests.lifecycle_scenarios import (
    PLAINTEXT,
    decrypted,
    encrypted_checkout,
    local_key,
    write_config,
)

Run = Callable[..., Result]
ENV_FILE = "services/app/.env.production"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: Run) -> Path:
    """A project whose ``.env.production`` is encrypted, its key pushed to the vault."""
    (tmp_path / "vault").mkdir()
    monkeypatch.chdir(tmp_path)
    encrypted_checkout(tmp_path, "files", {"path": "vault"}, "app-key", envdrift_cli)
    assert envdrift_cli("vault-push").exit_code == 0
    return tmp_path


def state(repo: Path) -> tuple[bytes, bytes, str]:
    """The env file, the keys file and the vault's value."""
    app = repo / "services" / "app"
    return (
        (app / ".env.production").read_bytes(),
        (app / ".env.keys").read_bytes(),
        (repo / "vault" / "app-key").read_text(),
    )


def use_vault(repo: Path, provider: str) -> None:
    """Point the project's one mapping at ``provider`` (its secrets in ``repo/vault``)."""
    write_config(repo, provider, {"path": "vault"}, "app-key")


# -- preflight -------------------------------------------------------------------------


@pytest.mark.parametrize("read_only", [".env.production", ".env.keys"])
def test_a_read_only_local_file_stops_rotate_before_the_vault(
    repo: Path, envdrift_cli: Run, read_only: str
) -> None:
    (repo / "services" / "app" / read_only).chmod(0o400)
    before = state(repo)
    result = envdrift_cli("rotate", ENV_FILE)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: cannot rotate {ENV_FILE}: ")
    assert "the file is read-only (mode 0400)" in line
    assert line.endswith("Nothing was changed, in the vault or locally")
    assert "a bug" not in line
    assert state(repo) == before
    assert not list((repo / "services" / "app").glob(".env.keys.backup.*"))


def test_a_keys_symlink_out_of_the_project_stops_rotate_before_the_vault(
    repo: Path, envdrift_cli: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    keys = repo / "services" / "app" / ".env.keys"
    outside = tmp_path_factory.mktemp("outside") / "keys"
    outside.write_bytes(keys.read_bytes())
    outside.chmod(0o644)
    keys.unlink()
    keys.symlink_to(outside)
    before = (outside.read_bytes(), (repo / "vault" / "app-key").read_text())
    result = envdrift_cli("rotate", ENV_FILE)
    assert result.exit_code == 1
    assert "is a symlink to" in result.stderr
    assert "outside the project root" in result.stderr
    assert (outside.read_bytes(), (repo / "vault" / "app-key").read_text()) == before
    assert oct(outside.stat().st_mode & 0o777) == "0o644"


def test_rotate_of_a_missing_file_is_a_usage_error(repo: Path, envdrift_cli: Run) -> None:
    result = envdrift_cli("rotate", "services/app/.env.nope")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "services/app/.env.nope does not exist" in line
    assert "a bug" not in line


# -- a failure after the vault changed -------------------------------------------------


class _Saboteur:
    """A ``files`` vault that, when the new key is read back (verified), makes one local
    file read-only: the swap that follows fails after preflight passed."""

    def __init__(self, victim: Path) -> None:
        victim_path = victim

        class SaboteurVault(FilesVault):
            name = "saboteur"

            def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
                super().__init__(options, context)
                self.stores = 0

            def store(self, name: str, value: Secret) -> None:
                super().store(name, value)
                self.stores += 1

            def fetch(self, name: str) -> Secret:
                if self.stores == 1:
                    victim_path.chmod(0o400)
                return super().fetch(name)

        self.cls = SaboteurVault

    @hookimpl
    def envdrift_register_vaults(self) -> list[type[Vault]]:
        return [self.cls]


@pytest.mark.parametrize("victim", [".env.production", ".env.keys"])
def test_a_swap_that_fails_puts_the_file_and_the_vault_back(
    repo: Path, envdrift_cli: Run, victim: str
) -> None:
    use_vault(repo, "saboteur")
    registry = PluginRegistry(plugins=[_Saboteur(repo / "services" / "app" / victim)])
    before = state(repo)
    result = envdrift_cli("rotate", ENV_FILE, registry=registry)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "read-only" in line
    assert "the previous value of secret 'app-key' in vault " in line
    assert line.endswith("is current again")
    assert "a bug" not in line
    assert state(repo) == before
    (repo / "services" / "app" / victim).chmod(0o600)
    use_vault(repo, "files")
    assert decrypted(envdrift_cli) == PLAINTEXT
    assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault").exit_code == 0


# -- kills between the steps: each state is named and repaired ---------------------------


def test_killed_after_the_vault_store_the_vault_is_ahead_of_both_files(
    repo: Path, envdrift_cli: Run
) -> None:
    # The vault holds a new key that opens nothing: sync must not install it.
    old = state(repo)
    (repo / "vault" / "app-key").write_text("cd" * 32)
    named = envdrift_cli("sync", "--force", "--check-decryption")
    assert named.exit_code == 1
    assert (
        "does not decrypt .env.production; the local key was kept"
        in (sync_errors(named)["services/app"])
    )
    assert state(repo)[:2] == old[:2]
    assert envdrift_cli("vault-push", "--force").exit_code == 0  # the repair it names
    assert envdrift_cli("sync", "--verify", "--check-decryption").exit_code == 0


def test_killed_between_the_two_local_writes_the_keys_file_is_behind(
    repo: Path, envdrift_cli: Run
) -> None:
    # Rotate fully, then put the old .env.keys back: the env file and the vault agree
    # on the new key, the keys file still holds the old one.
    old_keys = (repo / "services" / "app" / ".env.keys").read_bytes()
    assert envdrift_cli("rotate", ENV_FILE).exit_code == 0
    for backup in (repo / "services" / "app").glob(".env.keys.backup.*"):
        os.unlink(backup)
    (repo / "services" / "app" / ".env.keys").write_bytes(old_keys)
    named = envdrift_cli("sync", "--verify", "--check-decryption")
    assert named.exit_code == 1
    assert "mismatch" in named.stdout or "differs" in named.stdout
    assert envdrift_cli("sync", "--force", "--check-decryption").exit_code == 0  # the repair
    assert decrypted(envdrift_cli) == PLAINTEXT
    assert local_key(repo) == (repo / "vault" / "app-key").read_text()


# -- advice ----------------------------------------------------------------------------


def test_rotate_without_a_config_prints_the_mapping_sync_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: Run
) -> None:
    """`sync` reads only mappings: the printed envdrift.toml lines are what makes it work."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENVDRIFT_FILES_PATH", str(tmp_path / "vault"))
    app = tmp_path / "services" / "app"
    app.mkdir(parents=True)
    (app / ".env.staging").write_text('TOKEN="t0k"\n')
    assert envdrift_cli("encrypt", "services/app/.env.staging").exit_code == 0
    rotated = envdrift_cli("rotate", "services/app/.env.staging", "-p", "files", "--secret", "k")
    assert rotated.exit_code == 0, rotated.output
    assert "teammates then run: envdrift sync --force\n" in rotated.stdout
    lines = rotated.stdout.split("holding:\n")[1].split("teammates then run")[0]
    (tmp_path / "envdrift.toml").write_text("".join(line[4:] + "\n" for line in lines.splitlines()))
    (app / ".env.keys").unlink()  # a teammate's clone
    assert envdrift_cli("sync", "--force").exit_code == 0
    shown = envdrift_cli("decrypt", "services/app/.env.staging", "--stdout")
    assert shown.exit_code == 0
    assert shown.stdout.endswith('\nTOKEN="t0k"\n')
