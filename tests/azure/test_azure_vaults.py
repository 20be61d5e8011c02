"""Reading and writing through the real SDK: several vaults, versions, paging, threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable

import pytest
from envdrift import Secret, UnavailableError
from envdrift_azure import AzureVault

from tests.azure.conftest import PAGE_SIZE
from tests.servers import free_port
from tests.servers.azure_keyvault import KeyVaultEndpoint

MakeVault = Callable[..., AzureVault]


def test_vault_name_selects_a_vault_through_the_template(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint
) -> None:
    options = {"vault_url_template": keyvault.vault_url_template}
    suffix = uuid.uuid4().hex[:8]
    staging = make_vault(options=options, vault_name=f"staging-{suffix}")
    production = make_vault(options=options, vault_name=f"production-{suffix}")
    assert production.vault_url == keyvault.vault_url(f"production-{suffix}")

    staging.store("app-key", Secret("staging value"))
    production.store("app-key", Secret("production value"))
    assert staging.fetch("app-key").reveal() == "staging value"
    assert production.fetch("app-key").reveal() == "production value"
    assert production.list() == ["app-key"]


def test_store_adds_a_version_and_keeps_the_old_one(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, own_vault: str
) -> None:
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    vault = make_vault()
    vault.store("rotated-key", Secret("first"))
    vault.store("rotated-key", Secret("second"))
    assert vault.fetch("rotated-key").reveal() == "second"

    credential = DefaultAzureCredential(disable_instance_discovery=True)
    with SecretClient(keyvault.vault_url(own_vault), credential) as client:
        versions = list(client.list_properties_of_secret_versions("rotated-key"))
        assert len(versions) == 2
        values = {client.get_secret("rotated-key", v.version).value for v in versions}
    assert values == {"first", "second"}


def test_list_follows_every_page(make_vault: MakeVault) -> None:
    vault = make_vault()
    names = [f"paged-{i}" for i in range(3 * PAGE_SIZE + 1)]  # four pages
    for name in names:
        vault.store(name, Secret("v"))
    vault.store("other-key", Secret("v"))
    assert vault.list("paged-") == sorted(names)
    assert vault.list() == sorted([*names, "other-key"])
    assert vault.list("nothing-") == []


def test_the_server_really_pages(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, own_vault: str
) -> None:
    """Guards the paging test above: the server never answers more than a page at once."""
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    vault = make_vault()
    for i in range(PAGE_SIZE + 1):
        vault.store(f"k{i}", Secret("v"))
    credential = DefaultAzureCredential(disable_instance_discovery=True)
    with SecretClient(keyvault.vault_url(own_vault), credential) as client:
        pages = [list(page) for page in client.list_properties_of_secrets().by_page()]
    assert [len(page) for page in pages] == [PAGE_SIZE, 1]


def test_fetch_many_shares_one_client_across_threads(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint
) -> None:
    writer = make_vault()
    names = [f"key-{i}" for i in range(24)]
    for name in names:
        writer.store(name, Secret(f"value of {name}"))

    reader = make_vault()
    before = keyvault.stats()["tokens"]
    results = reader.fetch_many([*names, "missing-key"], jobs=8)
    tokens = keyvault.stats()["tokens"] - before

    for name in names:
        result = results[name]
        assert isinstance(result, Secret), result
        assert result.reveal() == f"value of {name}"
    assert type(results["missing-key"]).__name__ == "NotFoundError"
    # The first fetch alone does the challenge handshake; then the threads share its token.
    assert tokens == 1


def test_authority_host_option_instead_of_the_environment(
    make_vault: MakeVault,
    keyvault: KeyVaultEndpoint,
    own_vault: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AZURE_AUTHORITY_HOST")
    vault = make_vault(
        options={
            "vault_url": keyvault.vault_url(own_vault),
            "authority_host": keyvault.authority_host,
        }
    )
    vault.store("via-option", Secret("value"))
    assert vault.fetch("via-option").reveal() == "value"


def test_proxy_settings_from_the_environment_apply(
    make_vault: MakeVault, keyvault: KeyVaultEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transport reads HTTPS_PROXY/NO_PROXY once, with requests' own rules."""
    monkeypatch.setenv("ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE", "0")
    options = {"vault_url": keyvault.vault_url(None)}  # https://127.0.0.1:<port>/
    make_vault(options=options).store("behind-proxy", Secret("value"))

    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")  # nobody listens
    monkeypatch.setenv("NO_PROXY", "localhost")  # the token endpoint stays direct
    with pytest.raises(UnavailableError, match="cannot reach"):
        make_vault(options=options).fetch("behind-proxy")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert make_vault(options=options).fetch("behind-proxy").reveal() == "value"


def test_sdk_models_are_prepared_before_any_thread_reads() -> None:
    """The workaround for Azure/azure-sdk-for-python#47426 (``_prepare_sdk_models``).

    The SDK builds each model class's field table on first use, racily: concurrent first
    reads (sync reading two vaults at once) can return raw dicts. In a fresh process,
    making the backend's client must leave every model class's table built.
    """
    code = textwrap.dedent(
        """
        from envdrift import VaultContext
        from envdrift_azure import AzureVault
        vault = AzureVault({"vault_url": "https://my-keyvault.vault.azure.net/"}, VaultContext())
        vault._secret_client()  # no request: building the client is local
        from azure.keyvault.secrets._generated import models
        from azure.keyvault.secrets._generated._utils.model_base import Model
        classes = [c for c in vars(models).values() if isinstance(c, type)]
        classes = [c for c in classes if issubclass(c, Model)]
        ready = Model._calculated
        missing = [c.__name__ for c in classes if f"{c.__module__}.{c.__qualname__}" not in ready]
        print(len(classes), missing)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split(maxsplit=1)
    assert int(out[0]) > 5  # SecretBundle, SecretAttributes, KeyVaultError, …
    assert out[1].strip() == "[]"
