"""Fixtures for the Azure backend: our Key Vault test server, driven by the real SDK.

One server per test session (per xdist worker). Tests keep out of each other's way by
using their own vault names: the server keeps one store per vault host name, and
``https://<vault>.localhost:<port>/`` reaches it (``*.localhost`` resolves to loopback
per RFC 6761; ``loopback_dns`` supplies that where glibc does not, and refuses every
other name, so no test can reach a real cloud).

Apps registered on the server (``AZURE_CLIENT_ID`` values):

* ``envdrift-app``: every secret permission;
* ``envdrift-reader``: ``get`` only (an identity that may read but not list);
* ``envdrift-lister``: ``list`` only;
* ``envdrift-blocked``: signs in, then every Key Vault request gets 403.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from envdrift import RetryPolicy, VaultContext
from envdrift_azure import AzureVault

from tests.servers.azure_keyvault import (
    KeyVaultEndpoint,
    keyvault_server,
    loopback_dns,
)

APP, READER, LISTER, BLOCKED = (
    "envdrift-app",
    "envdrift-reader",
    "envdrift-lister",
    "envdrift-blocked",
)
PAGE_SIZE = 3


@pytest.fixture(scope="session")
def keyvault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyVaultEndpoint]:
    """The Key Vault test server, shared by the session."""
    clients = {name: f"secret-of-{name}" for name in (APP, READER, LISTER, BLOCKED)}
    with keyvault_server(
        tmp_path_factory.mktemp("keyvault"),
        client_secrets=clients,
        permissions={READER: ["get"], LISTER: ["list"]},
        deny_clients=[BLOCKED],
        page_size=PAGE_SIZE,
    ) as endpoint:
        yield endpoint


@pytest.fixture
def sign_in_as(keyvault: KeyVaultEndpoint, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set the environment ``DefaultAzureCredential`` reads, for one of the server's apps."""

    def sign_in(client: str = APP, *, secret: str | None = None, **extra: str) -> None:
        for name in list(os.environ):
            if name.startswith("AZURE_"):
                monkeypatch.delenv(name)
        for name, value in {**keyvault.credential_env(client, secret), **extra}.items():
            monkeypatch.setenv(name, value)

    return sign_in


@pytest.fixture(autouse=True)
def _localhost_names() -> Iterator[None]:
    with loopback_dns():
        yield


@pytest.fixture
def own_vault() -> str:
    """A vault of this test's own on the shared server."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_vault(
    keyvault: KeyVaultEndpoint, sign_in_as: Callable[..., None], own_vault: str
) -> Iterator[Callable[..., AzureVault]]:
    """Build ``AzureVault`` backends (closed after the test), signed in as ``envdrift-app``.

    ``make_vault(client=READER)`` signs in as another app. By default the backend gets
    ``vault_url`` of this test's vault; ``options``, ``vault_name`` and ``overrides`` go
    where the sync engine puts a config table, a mapping's vault name and CLI flags.
    """
    made: list[AzureVault] = []

    def make(
        *,
        client: str | None = None,
        options: dict[str, Any] | None = None,
        vault_name: str | None = None,
        overrides: dict[str, Any] | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> AzureVault:
        if client is not None:
            sign_in_as(client)
        if options is None:
            options = {"vault_url": keyvault.vault_url(own_vault)}
        context = VaultContext(
            base_dir=Path.cwd(),
            vault_name=vault_name,
            overrides=overrides or {},
            timeout=timeout,
            retry=retry or RetryPolicy(),
        )
        vault = AzureVault(options, context)
        made.append(vault)
        return vault

    sign_in_as(APP)
    yield make
    for vault in made:
        vault.close()
