"""The key lifecycle: ``decrypt --verify-vault``, ``vault-push`` and ``rotate``.

They run against the built-in ``files`` vault (a real directory of secrets) plus, for
failures that a directory cannot produce, small test vaults registered as plugins.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from envdrift import PermissionDeniedError, PluginRegistry, Secret, Vault, VaultContext, hookimpl
from envdrift.builtins.files import FilesVault

from tests.lifecycle_scenarios import PLAINTEXT, decrypted, encrypted_checkout, local_key

CONFIG = """\
[vault]
provider = "files"

[vault.files]
path = "vault"

[[vault.sync.mappings]]
secret_name = "app-key"
folder_path = "services/app"
"""


@pytest.fixture
def repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: Callable[..., Result]
) -> Path:
    """A project with one service whose .env.production is encrypted (key in .env.keys)."""
    (tmp_path / "vault").mkdir()
    monkeypatch.chdir(tmp_path)
    encrypted_checkout(tmp_path, "files", {"path": "vault"}, "app-key", envdrift_cli)
    assert (tmp_path / "envdrift.toml").read_text() == CONFIG
    return tmp_path


def vault_value(repo: Path, name: str = "app-key") -> str:
    return (repo / "vault" / name).read_text()


# -- vault-push ------------------------------------------------------------------------


def test_push_stores_the_bare_key_then_reports_unchanged(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    first = envdrift_cli("vault-push")
    assert first.exit_code == 0, first.output
    assert "created" in first.stdout
    assert vault_value(repo) == local_key(repo)
    assert stat.S_IMODE((repo / "vault/app-key").stat().st_mode) == 0o600
    again = envdrift_cli("vault-push")
    assert again.exit_code == 0
    assert "unchanged" in again.stdout


def test_push_keeps_a_different_vault_value_unless_forced(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    other = "ab" * 32
    (repo / "vault/app-key").write_text(other)
    refused = envdrift_cli("vault-push")
    assert refused.exit_code == 1
    assert "--force" in refused.stdout
    assert vault_value(repo) == other
    verify = envdrift_cli("vault-push", "--verify", "--format", "json")
    assert verify.exit_code == 1
    document = json.loads(verify.stdout)
    assert document["mappings"][0]["outcome"] == "would-update"
    assert vault_value(repo) == other
    forced = envdrift_cli("vault-push", "--force")
    assert forced.exit_code == 0
    assert "updated" in forced.stdout
    assert vault_value(repo) == local_key(repo)


def test_push_of_one_folder_without_a_mapping(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    result = envdrift_cli("vault-push", "services/app", "other-name", "--env", "production")
    assert result.exit_code == 0, result.output
    assert vault_value(repo, "other-name") == local_key(repo)


def test_push_without_a_local_key_is_an_error_naming_the_file(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    (repo / "services/app/.env.keys").unlink()
    result = envdrift_cli("vault-push")
    assert result.exit_code == 1
    assert "no DOTENV_PRIVATE_KEY_PRODUCTION line" in result.stdout
    assert not (repo / "vault/app-key").exists()


def test_push_of_a_folder_holding_only_another_environments_key_names_its_env(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    staging = repo / "services/staging"
    staging.mkdir()
    (staging / ".env.staging").write_text('TOKEN="t0k"\n')
    assert envdrift_cli("encrypt", "services/staging/.env.staging").exit_code == 0
    result = envdrift_cli("vault-push", "services/staging", "staging-key")
    assert result.exit_code == 1
    assert "it holds DOTENV_PRIVATE_KEY_STAGING: to push that key, pass --env staging" in (
        result.stdout
    )
    assert (
        envdrift_cli("vault-push", "services/staging", "staging-key", "--env", "staging").exit_code
        == 0
    )
    # A configured mapping is told which `environment` to set instead.
    (repo / "services/app/.env.keys").write_text((staging / ".env.keys").read_text())
    mapped = envdrift_cli("vault-push")
    assert mapped.exit_code == 1
    assert 'to push that key, set environment = "staging" in the mapping' in mapped.stdout


def test_push_then_sync_on_a_fresh_clone_reproduces_the_keys(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    original = local_key(repo)
    assert envdrift_cli("vault-push").exit_code == 0
    (repo / "services/app/.env.keys").unlink()  # a new teammate's clone
    synced = envdrift_cli("sync")
    assert synced.exit_code == 0, synced.output
    assert local_key(repo) == original
    assert decrypted(envdrift_cli) == PLAINTEXT


# -- decrypt --verify-vault ------------------------------------------------------------


def test_verify_vault_passes_with_one_line(repo: Path, envdrift_cli: Callable[..., Result]) -> None:
    assert envdrift_cli("vault-push").exit_code == 0
    before = (repo / "services/app/.env.production").read_bytes()
    result = envdrift_cli("decrypt", "services/app/.env.production", "--verify-vault", "--ci")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    assert "decrypts services/app/.env.production (3 values)" in result.stdout
    assert (repo / "services/app/.env.production").read_bytes() == before


@pytest.mark.parametrize(
    "form",
    [
        "{key}",
        "  {key}\n",
        'DOTENV_PRIVATE_KEY_PRODUCTION="{key}"',
        '{{"value": "{key}"}}',
        '{{"DOTENV_PRIVATE_KEY_PRODUCTION": "{key}"}}',
        "#/ header\nDOTENV_PRIVATE_KEY_STAGING={other}\nDOTENV_PRIVATE_KEY_PRODUCTION={key}\n",
    ],
)
def test_verify_vault_accepts_every_stored_form(
    repo: Path, envdrift_cli: Callable[..., Result], form: str
) -> None:
    (repo / "vault/app-key").write_text(form.format(key=local_key(repo), other="cd" * 32))
    result = envdrift_cli("decrypt", "services/app/.env.production", "--verify-vault")
    assert result.exit_code == 0, result.output


def test_verify_vault_failure_prints_the_guides_repair_steps(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    assert envdrift_cli("vault-push").exit_code == 0
    # A teammate re-encrypts with a stray key: a fresh pair, not the vault's.
    env = repo / "services/app/.env.production"
    env.write_text("".join(f'{k}="{v}"\n' for k, v in PLAINTEXT.items()))
    os.environ.pop("DOTENV_PRIVATE_KEY_PRODUCTION", None)
    (repo / "services/app/.env.keys").unlink()
    assert envdrift_cli("encrypt", "--new-key", str(env.relative_to(repo))).exit_code == 0
    stray = env.read_bytes()
    result = envdrift_cli("decrypt", "services/app/.env.production", "--verify-vault", "--ci")
    assert result.exit_code == 1
    assert "was encrypted with a different key than the one in vault 'files'" in result.stderr
    assert result.stderr.splitlines()[-4:] == [
        "To repair:",
        "  1. git restore services/app/.env.production",
        "  2. envdrift sync --force",
        "  3. envdrift encrypt services/app/.env.production",
    ]
    assert env.read_bytes() == stray


def test_verify_vault_adds_dash_c_only_when_discovery_would_miss_it(
    repo: Path, envdrift_cli: Callable[..., Result], tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("ci")
    config = elsewhere / "team.toml"
    config.write_text(
        CONFIG.replace('path = "vault"', f'path = "{repo / "vault"}"').replace(
            'folder_path = "services/app"', f'folder_path = "{repo / "services/app"}"'
        )
    )
    (repo / "vault/app-key").write_text("ef" * 32)
    result = envdrift_cli(
        "decrypt",
        "services/app/.env.production",
        "--verify-vault",
        "-c",
        str(config),
    )
    assert result.exit_code == 1
    assert f"  2. envdrift sync --force -c {os.path.relpath(config)}" in result.stderr.splitlines()


def test_verify_vault_without_config_uses_the_flags(
    tmp_path: Path, envdrift_cli: Callable[..., Result], repo: Path
) -> None:
    (repo / "envdrift.toml").unlink()
    (repo / "vault/standalone").write_text(local_key(repo))
    args = [
        "decrypt",
        "services/app/.env.production",
        "--verify-vault",
        "-p",
        "files",
        "--vault-url",
        "vault",
        "--secret",
        "standalone",
    ]
    assert envdrift_cli(*args).exit_code == 0
    (repo / "vault/standalone").write_text("12" * 32)
    failed = envdrift_cli(*args)
    assert failed.exit_code == 1
    assert "2. envdrift sync --force -p files --vault-url vault" in failed.stderr


def test_verify_vault_json_and_missing_secret(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    missing = envdrift_cli(
        "decrypt", "services/app/.env.production", "--verify-vault", "--format", "json"
    )
    assert missing.exit_code == 1
    assert "not found" in json.loads(missing.stdout)["error"]
    assert envdrift_cli("vault-push").exit_code == 0
    ok = envdrift_cli(
        "decrypt", "services/app/.env.production", "--verify-vault", "--format", "json"
    )
    document = json.loads(ok.stdout)
    assert document["ok"] is True
    assert document["checked"] == 3
    assert document["exit_code"] == 0


def test_vault_flags_without_verify_vault_are_a_usage_error(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    result = envdrift_cli("decrypt", "services/app/.env.production", "--secret", "x")
    assert result.exit_code == 2


# -- rotate ----------------------------------------------------------------------------


def test_rotate_end_to_end(repo: Path, envdrift_cli: Callable[..., Result]) -> None:
    assert envdrift_cli("vault-push").exit_code == 0
    old_key, env = local_key(repo), repo / "services/app/.env.production"
    old_text = env.read_text()
    result = envdrift_cli("rotate", "services/app/.env.production")
    assert result.exit_code == 0, result.output
    assert "envdrift sync --force" in result.stdout
    # describe() already carries its own parentheses: not wrapped in a second pair.
    assert "new key stored in secret 'app-key' in vault 'files' (" in result.stdout
    assert "(vault 'files'" not in result.stdout
    new_key = local_key(repo)
    assert new_key != old_key
    assert vault_value(repo) == new_key
    assert env.read_text() != old_text
    assert decrypted(envdrift_cli) == PLAINTEXT
    backups = list((repo / "services/app").glob(".env.keys.backup.*"))
    assert len(backups) == 1
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert envdrift_cli("decrypt", "services/app/.env.production", "--verify-vault").exit_code == 0
    assert envdrift_cli("sync", "--verify").exit_code == 0


class _Broken:
    """A ``files`` vault whose store is refused or crashes, or whose fetch-after-store
    lies (and whose second store, the rollback, is refused too)."""

    def __init__(self, mode: str) -> None:
        broken = self

        class BrokenVault(FilesVault):
            name = "broken"

            def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
                super().__init__(options, context)
                self.stored = 0

            def store(self, name: str, value: Secret) -> None:
                if mode == "crash":  # an SDK error echoing the request it failed on
                    raise RuntimeError(f"cannot send {{'value': '{value.reveal()}'}}")
                if mode == "refuse" or (mode == "lie-then-refuse" and self.stored):
                    raise PermissionDeniedError(f"{self.describe()} refused to store {name!r}")
                super().store(name, value)
                self.stored += 1

            def fetch(self, name: str) -> Secret:
                if mode in ("lie", "lie-then-refuse") and self.stored == 1:
                    return Secret("34" * 32)  # not the key that was just stored
                return super().fetch(name)

        broken.cls = BrokenVault

    @hookimpl
    def envdrift_register_vaults(self) -> list[type[Vault]]:
        return [self.cls]


def use_broken_vault(repo: Path, mode: str) -> PluginRegistry:
    """Point the project at a ``broken`` vault in ``mode``; the registry that provides it."""
    broken = CONFIG.replace('provider = "files"', 'provider = "broken"')
    (repo / "envdrift.toml").write_text(broken.replace("[vault.files]", "[vault.broken]"))
    return PluginRegistry(plugins=[_Broken(mode)])


@pytest.mark.parametrize("mode", ["refuse", "lie"])
def test_rotate_interrupted_leaves_files_and_vault_consistent(
    repo: Path, envdrift_cli: Callable[..., Result], mode: str
) -> None:
    registry = use_broken_vault(repo, mode)
    old_key = local_key(repo)
    (repo / "vault/app-key").write_text(old_key)
    env, keys = repo / "services/app/.env.production", repo / "services/app/.env.keys"
    before = (env.read_bytes(), keys.read_bytes())
    result = envdrift_cli("rotate", "services/app/.env.production", registry=registry)
    assert result.exit_code == 1
    assert "Local files were not changed" in result.stderr or "refused" in result.stderr
    assert (env.read_bytes(), keys.read_bytes()) == before
    assert vault_value(repo) == old_key
    if mode == "lie":
        assert "previous value of secret 'app-key'" in result.stderr
    assert not list((repo / "services/app").glob(".env.keys.backup.*"))


def test_a_store_that_crashes_fails_its_mapping_in_one_masked_line(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    registry = use_broken_vault(repo, "crash")
    result = envdrift_cli("vault-push", registry=registry)
    assert result.exit_code == 1
    assert "failed storing secret 'app-key': RuntimeError: cannot send {'value': '***'}" in (
        result.stdout
    )
    assert "Traceback" not in result.output
    assert local_key(repo) not in result.output


def test_an_unexpected_error_is_one_line_without_a_traceback(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    registry = use_broken_vault(repo, "crash")
    result = envdrift_cli("rotate", "services/app/.env.production", registry=registry)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ")
    assert "RuntimeError: cannot send {'value': '***'}" in line
    assert local_key(repo) not in result.output


def test_rotate_whose_rollback_is_refused_says_how_to_recover(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    registry = use_broken_vault(repo, "lie-then-refuse")
    old_key = local_key(repo)
    (repo / "vault/app-key").write_text(old_key)
    env, keys = repo / "services/app/.env.production", repo / "services/app/.env.keys"
    before = (env.read_bytes(), keys.read_bytes())
    result = envdrift_cli("rotate", "services/app/.env.production", registry=registry)
    assert result.exit_code == 1
    assert "restoring the previous value of secret 'app-key' in vault 'files'" in result.stderr
    # This mapping's key alone: a bare `vault-push --force` would force every mapping.
    recover = "envdrift vault-push services/app app-key --env production --force"
    assert result.stderr.endswith(f"run `{recover}` to store the local key again\n")
    assert (env.read_bytes(), keys.read_bytes()) == before
    assert vault_value(repo) != old_key  # the unverified new key stayed
    (repo / "envdrift.toml").write_text(CONFIG)
    assert envdrift_cli(*recover.split()[1:]).exit_code == 0
    assert vault_value(repo) == old_key
    assert envdrift_cli("decrypt", "services/app/.env.production", "--verify-vault").exit_code == 0


# -- the sync command in repair steps and after a rotation --------------------------------


def _repair_sync_step(envdrift_cli: Callable[..., Result], *flags: str) -> str:
    result = envdrift_cli("decrypt", "services/app/.env.production", "--verify-vault", *flags)
    assert result.exit_code == 1, result.output
    (step,) = [line for line in result.stderr.splitlines() if line.startswith("  2. ")]
    return step.removeprefix("  2. ")


def test_repair_and_rotate_name_the_profile_of_a_tagged_mapping(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    # An untagged `envdrift sync` skips a mapping tagged with a profile.
    (repo / "envdrift.toml").write_text(CONFIG + 'profile = "prod"\nenvironment = "production"\n')
    (repo / "vault/app-key").write_text("ef" * 32)
    assert _repair_sync_step(envdrift_cli) == "envdrift sync --force --profile prod"
    assert envdrift_cli("vault-push", "--profile", "prod", "--force").exit_code == 0
    rotated = envdrift_cli("rotate", "services/app/.env.production")
    assert rotated.exit_code == 0, rotated.output
    assert rotated.stdout.splitlines()[-1].endswith(
        "teammates then run: envdrift sync --force --profile prod"
    )


def test_repair_repeats_only_the_flags_the_config_does_not_give(
    repo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    (repo / "vault/app-key").write_text("ef" * 32)
    # The same provider and path as the config: nothing to repeat.
    assert _repair_sync_step(envdrift_cli, "-p", "files", "--vault-url", "vault") == (
        "envdrift sync --force"
    )
    # Another folder than the config's: a sync without the flag would read the config's.
    (repo / "elsewhere").mkdir()
    (repo / "elsewhere/app-key").write_text("12" * 32)
    assert _repair_sync_step(envdrift_cli, "--vault-url", "elsewhere") == (
        "envdrift sync --force --vault-url elsewhere"
    )
    # A config without a provider: sync needs -p.
    (repo / "envdrift.toml").write_text(CONFIG.replace('provider = "files"\n', ""))
    assert _repair_sync_step(envdrift_cli, "-p", "files") == "envdrift sync --force -p files"
    assert envdrift_cli("sync", "--force").exit_code == 2  # without it: "no vault provider"
