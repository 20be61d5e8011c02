"""``envdrift sync`` end to end against Azure Key Vault (our HTTPS Key Vault test server).

The project uses the user guide's ``envdrift.toml``: ``[vault.azure] vault_url``, a
``default_vault_name`` and a mapping that selects another vault through ``vault_name``.
Keys are put in the vaults as ``az keyvault secret set`` would (a bare key) and as the
old envdrift ``vault-push`` did (a ``DOTENV_PRIVATE_KEY_<ENV>=<hex>`` line). The CLI runs
as users run it: the ``azure`` entry point, ``DefaultAzureCredential`` from
``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``/``AZURE_CLIENT_SECRET``, ``REQUESTS_CA_BUNDLE``.

The only test-side settings are where the vaults are: ``vault_url_template`` points vault
names at the test server (``https://<name>.localhost:<port>/`` instead of
``https://<name>.vault.azure.net/``) and ``AZURE_AUTHORITY_HOST`` at its token endpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.azure.conftest import APP, LISTER, READER
from tests.helpers import assert_no_private_key, sync_rows
from tests.servers.azure_keyvault import KeyVaultEndpoint


def make_key(seed: str) -> str:
    """A valid dotenvx private key (64 hex digits inside the curve order)."""
    return hashlib.sha256(seed.encode()).hexdigest()


APP_KEY, AUTH_KEY, PROD_KEY, NEW_KEY = (make_key(s) for s in ("app", "auth", "prod", "new"))


@dataclass
class Project:
    """The user guide's project: ``envdrift.toml`` and three services."""

    root: Path
    main_vault: str
    prod_vault: str

    def keys(self, folder: str) -> str:
        return (self.root / folder / ".env.keys").read_text()


def guide_config(keyvault: KeyVaultEndpoint, main_vault: str, prod_vault: str) -> str:
    """The guide's "TOML Format (envdrift.toml)" example, pointed at the test server."""
    return f"""\
[vault]
provider = "azure"

[vault.azure]
vault_url = "{keyvault.vault_url(main_vault)}"
vault_url_template = "{keyvault.vault_url_template}"

[vault.sync]
default_vault_name = "{main_vault}"
env_keys_filename = ".env.keys"

[[vault.sync.mappings]]
secret_name = "myapp-key"
folder_path = "services/myapp"

[[vault.sync.mappings]]
secret_name = "auth-key"
folder_path = "services/auth"
environment = "staging"  # Use DOTENV_PRIVATE_KEY_STAGING

[[vault.sync.mappings]]
secret_name = "prod-key"
folder_path = "services/prod"
vault_name = "{prod_vault}"  # Override default
"""


@pytest.fixture
def sdk(keyvault: KeyVaultEndpoint) -> Iterator[Callable[[str], Any]]:
    """``SecretClient`` for a vault on the server: the ``az keyvault secret set`` stand-in."""
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    clients: list[Any] = []

    def client(vault: str) -> Any:
        credential = DefaultAzureCredential(disable_instance_discovery=True)
        clients.append(SecretClient(keyvault.vault_url(vault), credential))
        return clients[-1]

    yield client
    for made in clients:
        made.close()


@pytest.fixture
def project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keyvault: KeyVaultEndpoint,
    sign_in_as: Callable[..., None],
    sdk: Callable[[str], Any],
) -> Project:
    sign_in_as(APP)
    suffix = uuid.uuid4().hex[:6]
    main_vault, prod_vault = f"my-keyvault-{suffix}", f"production-vault-{suffix}"
    # `az keyvault secret set --vault-name my-keyvault --name myapp-key --value <hex>`
    sdk(main_vault).set_secret("myapp-key", APP_KEY)
    # envdrift 1.x `vault-push`: the whole .env.keys line
    sdk(main_vault).set_secret("auth-key", f"DOTENV_PRIVATE_KEY_STAGING={AUTH_KEY}")
    sdk(prod_vault).set_secret("prod-key", PROD_KEY)

    root = tmp_path / "monorepo"
    for folder in ("services/myapp", "services/auth", "services/prod"):
        (root / folder).mkdir(parents=True)
    (root / "envdrift.toml").write_text(guide_config(keyvault, main_vault, prod_vault))
    monkeypatch.chdir(root)
    return Project(root, main_vault, prod_vault)


@pytest.fixture
def sync(envdrift_cli: Callable[..., Result]) -> Callable[..., Result]:
    return lambda *args: envdrift_cli("sync", *args)


def test_the_user_guides_config_syncs_from_two_vaults(
    project: Project, sync: Callable[..., Result]
) -> None:
    first = sync()
    assert first.exit_code == 0, first.output
    assert [row[:4] for row in sync_rows(first)] == [
        ["services/myapp", "myapp-key", "production", "created"],
        ["services/auth", "auth-key", "staging", "created"],
        ["services/prod", "prod-key", "production", "created"],
    ]
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={APP_KEY}" in project.keys("services/myapp")
    assert f"DOTENV_PRIVATE_KEY_STAGING={AUTH_KEY}" in project.keys("services/auth")
    # prod-key exists only in the vault its mapping names.
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={PROD_KEY}" in project.keys("services/prod")
    for folder in ("services/myapp", "services/auth", "services/prod"):
        assert stat.S_IMODE((project.root / folder / ".env.keys").stat().st_mode) == 0o600

    again = sync("--verify")
    assert again.exit_code == 0
    assert [row[3] for row in sync_rows(again)] == ["unchanged"] * 3


def test_vault_url_alone_serves_mappings_without_a_vault_name(
    project: Project, sync: Callable[..., Result], keyvault: KeyVaultEndpoint
) -> None:
    # The guide's Quick Start shape: vault_url, and one mapping naming another vault.
    config = project.root / "envdrift.toml"
    text = config.read_text().replace(f'default_vault_name = "{project.main_vault}"\n', "")
    config.write_text(text)
    result = sync()
    assert result.exit_code == 0, result.output
    assert [row[3] for row in sync_rows(result)] == ["created"] * 3
    assert f"={PROD_KEY}" in project.keys("services/prod")


def test_a_rotated_key_is_drift_until_forced(
    project: Project, sync: Callable[..., Result], sdk: Callable[[str], Any]
) -> None:
    assert sync().exit_code == 0
    # The guide's key rotation: `az keyvault secret set` again, a new version.
    sdk(project.main_vault).set_secret("myapp-key", NEW_KEY)
    verify = sync("--verify")
    assert verify.exit_code == 1
    assert sync_rows(verify)[0][3] == "drift"
    forced = sync("--force")
    assert forced.exit_code == 0, forced.output
    assert [row[3] for row in sync_rows(forced)] == ["updated", "unchanged", "unchanged"]
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={NEW_KEY}" in project.keys("services/myapp")


def test_a_missing_secret_fails_only_its_mapping(
    project: Project, sync: Callable[..., Result], sdk: Callable[[str], Any]
) -> None:
    sdk(project.prod_vault).begin_delete_secret("prod-key").wait()
    result = sync()
    assert result.exit_code == 1
    table = sync_rows(result)
    assert [row[3] for row in table] == ["created", "created", "error"]
    reason = table[2][4]
    assert "secret 'prod-key'" in reason
    assert project.prod_vault in reason
    assert "az keyvault secret list" in reason
    assert not (project.root / "services/prod/.env.keys").exists()


def test_get_permission_alone_is_enough(
    project: Project, sync: Callable[..., Result], sign_in_as: Callable[..., None]
) -> None:
    sign_in_as(READER)  # the guide grants get and list; sync needs only get
    result = sync("--ci")
    assert result.exit_code == 0, result.output
    assert [row[3] for row in sync_rows(result)] == ["created"] * 3


def test_an_identity_without_get_is_told_the_permission(
    project: Project, sync: Callable[..., Result], sign_in_as: Callable[..., None]
) -> None:
    sign_in_as(LISTER)
    result = sync("--ci")
    assert result.exit_code == 1
    for row in sync_rows(result):
        assert row[3] == "error"
        assert "may not read secrets" in row[4]
        assert "'get'" in row[4]
        assert "Key Vault Secrets User" in row[4]


def test_a_wrong_client_secret_is_one_clear_reason_per_mapping(
    project: Project, sync: Callable[..., Result], sign_in_as: Callable[..., None]
) -> None:
    sign_in_as(APP, secret="wrong-secret")
    result = sync()
    assert result.exit_code == 1
    for row in sync_rows(result):
        assert row[3] == "error"
        assert "AADSTS7000215: AZURE_CLIENT_SECRET is wrong" in row[4]
    assert "Traceback" not in result.output
    assert "wrong-secret" not in result.output


def test_an_underscore_in_secret_name_is_explained(
    project: Project, sync: Callable[..., Result]
) -> None:
    config = project.root / "envdrift.toml"
    config.write_text(config.read_text().replace('"myapp-key"', '"myapp_key"'))
    result = sync()
    assert result.exit_code != 0
    assert "'myapp_key'" in result.output
    assert "use 'myapp-key' instead" in result.output
    assert "Traceback" not in result.output


def test_the_vault_url_flag_replaces_the_default_vault_only(
    project: Project, sync: Callable[..., Result], keyvault: KeyVaultEndpoint
) -> None:
    other = f"other-{uuid.uuid4().hex[:6]}"
    result = sync("--vault-url", keyvault.vault_url(other), "--verify")
    assert result.exit_code == 1
    table = sync_rows(result)
    # myapp and auth used default_vault_name; the flag sends them to the (empty) other
    # vault. prod-key names its own vault and keeps it.
    assert [row[3] for row in table] == ["error", "error", "drift"]
    assert "secret 'myapp-key'" in table[0][4]
    assert other in table[0][4]
    assert other in table[1][4]
    assert sync().exit_code == 0
    assert [row[3] for row in sync_rows(sync("--verify"))] == ["unchanged"] * 3
    again = sync("--vault-url", keyvault.vault_url(project.main_vault), "--verify")
    assert [row[3] for row in sync_rows(again)] == ["unchanged"] * 3


def test_legacy_pair_txt_with_an_explicit_vault_name(
    project: Project, sync: Callable[..., Result], keyvault: KeyVaultEndpoint
) -> None:
    (project.root / "pair.txt").write_text(
        "# legacy\nmyapp-key=services/myapp\nproduction-vault/prod-key=services/prod\n"
    )
    # pair.txt has no [vault.azure] table: the plain line's vault comes from the flag, the
    # prefixed line names its own vault, which is https://production-vault.vault.azure.net/
    # (unreachable by design: tests resolve no name but *.localhost).
    main_url = keyvault.vault_url(project.main_vault)
    result = sync("-c", "pair.txt", "-p", "azure", "--vault-url", main_url)
    assert result.exit_code == 1
    table = sync_rows(result)
    assert table[0][:4] == ["services/myapp", "myapp-key", "production", "created"]
    assert f"={APP_KEY}" in project.keys("services/myapp")
    assert table[1][3] == "error"
    assert "cannot reach vault 'azure' (https://production-vault.vault.azure.net/)" in table[1][4]


def test_json_report_hides_values(project: Project, sync: Callable[..., Result]) -> None:
    result = sync("--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["provider"] == "azure"
    assert document["summary"]["created"] == 3
    assert all(m["vault_value"].startswith("<redacted len=64") for m in document["mappings"])


def test_the_installed_command_syncs(
    project: Project, keyvault: KeyVaultEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real console script in its own process, by IP address.

    Without our in-process ``*.localhost`` resolution, the vault is reached at
    ``https://127.0.0.1:<port>/`` (one vault, the server's default); that host is not under
    the challenge's resource, which is exactly what
    ``ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE=0`` is for.
    """
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    credential = DefaultAzureCredential(disable_instance_discovery=True)
    with SecretClient(keyvault.vault_url(None), credential, verify_challenge_resource=False) as c:
        c.set_secret("installed-key", APP_KEY)
    (project.root / "envdrift.toml").write_text(
        f'[vault]\nprovider = "azure"\n[vault.azure]\nvault_url = "{keyvault.vault_url(None)}"\n'
        '[[vault.sync.mappings]]\nsecret_name = "installed-key"\nfolder_path = "services/myapp"\n'
    )
    envdrift = Path(sys.executable).with_name("envdrift")
    env = {**os.environ, "ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE": "0"}
    done = subprocess.run(
        [str(envdrift), "sync", "--ci"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert_no_private_key(done.stdout + done.stderr)
    assert f"={APP_KEY}" in project.keys("services/myapp")
