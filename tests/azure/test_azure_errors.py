"""What users see when Key Vault or Entra ID says no: each error names the vault, the
secret and the fix. Every case is produced by the server, through the unmodified SDK."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from envdrift import (
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    Secret,
    UnavailableError,
    VaultError,
)
from envdrift_azure import AzureVault

from tests.azure.conftest import APP, BLOCKED, LISTER, READER
from tests.servers import free_port
from tests.servers.azure_keyvault import KeyVaultEndpoint

MakeVault = Callable[..., AzureVault]


def _sdk_client(keyvault: KeyVaultEndpoint, vault: str):  # type: ignore[no-untyped-def]
    """A plain SDK client on the same vault, to arrange state the backend never creates."""
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    return SecretClient(
        keyvault.vault_url(vault), DefaultAzureCredential(disable_instance_discovery=True)
    )


def test_missing_secret_names_secret_vault_and_az_command(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, own_vault: str
) -> None:
    vault = make_vault()
    with pytest.raises(NotFoundError) as info:
        vault.fetch("no-such-key")
    message = str(info.value)
    assert "'no-such-key'" in message
    assert keyvault.vault_url(own_vault) in message
    assert f"az keyvault secret list --id {keyvault.vault_url(own_vault)}" in message


def test_reader_without_list_permission_can_fetch_but_not_list(
    make_vault: MakeVault, own_vault: str
) -> None:
    make_vault().store("readable", Secret("value"))
    reader = make_vault(client=READER)
    assert reader.fetch("readable").reveal() == "value"
    with pytest.raises(PermissionDeniedError) as info:
        reader.list()
    message = str(info.value)
    assert "may not list secrets" in message
    assert "'list'" in message
    assert "Key Vault Secrets User" in message
    assert own_vault in message
    assert f"appid={READER}" in message


def test_check_passes_for_an_identity_that_may_only_get(make_vault: MakeVault) -> None:
    make_vault(client=READER).check()


def test_lister_without_get_permission_is_told_which_permission(
    make_vault: MakeVault, own_vault: str
) -> None:
    make_vault().store("hidden", Secret("value"))
    lister = make_vault(client=LISTER)
    assert lister.list() == ["hidden"]
    with pytest.raises(PermissionDeniedError) as info:
        lister.fetch("hidden")
    message = str(info.value)
    assert "may not read secrets" in message
    assert "'get'" in message
    assert "Key Vault Secrets User" in message
    assert own_vault in message
    with pytest.raises(PermissionDeniedError, match="'get'"):
        lister.check()


def test_store_without_set_permission_names_the_officer_role(make_vault: MakeVault) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        make_vault(client=READER).store("new-key", Secret("value"))
    assert "'set'" in str(info.value)
    assert "Key Vault Secrets Officer" in str(info.value)


def test_denied_client_fails_check(make_vault: MakeVault) -> None:
    with pytest.raises(PermissionDeniedError, match="may not read secrets"):
        make_vault(client=BLOCKED).check()


def test_disabled_secret_says_it_is_disabled(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, own_vault: str
) -> None:
    vault = make_vault()
    vault.store("switched-off", Secret("value"))
    with _sdk_client(keyvault, own_vault) as client:
        client.update_secret_properties("switched-off", enabled=False)
    with pytest.raises(PermissionDeniedError) as info:
        vault.fetch("switched-off")
    message = str(info.value)
    assert "'switched-off'" in message
    assert "is disabled" in message
    assert "az keyvault secret set-attributes" in message
    assert "--enabled true" in message


def test_storing_a_soft_deleted_name_says_recover_or_purge(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, own_vault: str
) -> None:
    vault = make_vault()
    vault.store("gone", Secret("old"))
    with _sdk_client(keyvault, own_vault) as client:
        client.begin_delete_secret("gone").wait()
    with pytest.raises(VaultError) as info:
        vault.store("gone", Secret("new"))
    message = str(info.value)
    assert "deleted and is still recoverable" in message
    assert "az keyvault secret recover" in message
    assert "az keyvault secret purge" in message
    assert "--name gone" in message
    # After a purge the name is free again, through the backend.
    with _sdk_client(keyvault, own_vault) as client:
        client.purge_deleted_secret("gone")
    vault.store("gone", Secret("new"))
    assert vault.fetch("gone").reveal() == "new"


def test_underscore_in_a_name_is_refused_before_any_request(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint
) -> None:
    vault = make_vault()
    before = keyvault.stats().get("requests", 0)
    with pytest.raises(ConfigError) as info:
        vault.fetch("DB_URL")
    with pytest.raises(ConfigError):
        vault.store("myapp_dotenvx_key", Secret("value"))
    assert keyvault.stats().get("requests", 0) == before
    message = str(info.value)
    assert "letters, digits and dashes" in message
    assert "'DB-URL'" in message


def test_server_enforces_the_same_name_rule(
    keyvault: KeyVaultEndpoint, own_vault: str, sign_in_as: Callable[..., None]
) -> None:
    """The server refuses what the backend refuses, so the backend's check is not a guess."""
    from azure.core.exceptions import HttpResponseError

    sign_in_as(APP)
    with _sdk_client(keyvault, own_vault) as client, pytest.raises(HttpResponseError) as info:
        client.set_secret("DB_URL", "value")
    assert info.value.status_code == 400
    assert info.value.error is not None
    assert info.value.error.code == "BadParameter"


def test_wrong_client_secret_is_shortened_to_the_fix(
    make_vault: MakeVault, sign_in_as: Callable[..., None]
) -> None:
    vault = make_vault()
    sign_in_as(APP, secret="not-the-secret")
    with pytest.raises(PermissionDeniedError) as info:
        vault.fetch("anything")
    message = str(info.value)
    assert "AADSTS7000215" in message
    assert "AZURE_CLIENT_SECRET is wrong" in message
    assert "not-the-secret" not in message
    assert "DefaultAzureCredential failed" not in message
    assert "\n" not in message


def test_unknown_app_is_named(make_vault: MakeVault, sign_in_as: Callable[..., None]) -> None:
    vault = make_vault()
    sign_in_as("nobody", secret="whatever")
    with pytest.raises(PermissionDeniedError, match="AADSTS700016: AZURE_CLIENT_ID"):
        vault.check()


def test_tenant_mismatch_names_the_vaults_tenant(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, sign_in_as: Callable[..., None]
) -> None:
    vault = make_vault()
    sign_in_as(APP, AZURE_TENANT_ID=str(uuid.UUID(int=42)))
    with pytest.raises(PermissionDeniedError) as info:
        vault.check()
    assert f"AZURE_TENANT_ID={keyvault.tenant_id}" in str(info.value)


def test_no_credential_at_all_says_az_login(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault()
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    # Only the environment credential, so a developer's own `az login` cannot answer.
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
    with pytest.raises(PermissionDeniedError) as info:
        vault.check()
    message = str(info.value)
    assert "no Azure credential is available" in message
    assert "az login" in message
    assert "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET" in message


def test_throttling_is_retried_then_succeeds(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint
) -> None:
    vault = make_vault()
    vault.store("busy-key", Secret("value"))
    keyvault.add_fault("busy-key", 429, count=2)
    assert vault.fetch("busy-key").reveal() == "value"


def test_a_vault_that_stays_down_fails_after_bounded_retries(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint
) -> None:
    vault = make_vault(retry=RetryPolicy(retries=3))
    vault.store("down-key", Secret("value"))
    vault.store("fine-key", Secret("fine"))
    # Retry-After keeps the test fast; the count of attempts is what is checked.
    keyvault.add_fault("down-key", 503, retry_after="0.01")
    try:
        before = keyvault.stats().get("faults", 0)
        results = vault.fetch_many(["down-key", "fine-key"])
        attempts = keyvault.stats().get("faults", 0) - before
    finally:
        keyvault.add_fault("down-key", 503, count=0)
    assert isinstance(results["down-key"], UnavailableError)
    assert "503" in str(results["down-key"])
    assert results["down-key"].transient
    assert attempts == 4  # the first try and three retries
    assert "(gave up after 4 attempts in " in str(results["down-key"])
    fine = results["fine-key"]
    assert isinstance(fine, Secret)
    assert fine.reveal() == "fine"


def test_unreachable_vault_is_unavailable(make_vault: MakeVault) -> None:
    vault = make_vault(options={"vault_url": f"https://127.0.0.1:{free_port()}/"})
    with pytest.raises(UnavailableError, match=r"cannot reach vault 'azure' \(https://127"):
        vault.fetch("anything")


def test_untrusted_certificate_points_at_requests_ca_bundle(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault()
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(UnavailableError, match="REQUESTS_CA_BUNDLE"):
        vault.fetch("anything")


def test_challenge_resource_mismatch_names_the_setting(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # By IP address the host is not under the challenge's resource (localhost:<port>),
    # exactly like a private endpoint's own name against vault.azure.net.
    options = {"vault_url": keyvault.vault_url(None)}
    with pytest.raises(ConfigError, match="ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE=0"):
        make_vault(options=options).fetch("anything")
    monkeypatch.setenv("ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE", "0")
    relaxed = make_vault(options=options)
    relaxed.store("by-address", Secret("value"))
    assert relaxed.fetch("by-address").reveal() == "value"
