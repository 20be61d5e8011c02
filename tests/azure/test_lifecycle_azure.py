"""The key lifecycle against Azure Key Vault (our HTTPS Key Vault test server).

Keys are stored as ``az keyvault secret set --value <hex>`` stores them (a bare key) and
as envdrift 1.x pushed them (the ``DOTENV_PRIVATE_KEY_<ENV>=<hex>`` line), through the
unmodified Azure SDK. A refused write is the server's ``envdrift-reader`` app, whose
access policy grants ``get`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from envdrift_azure import AzureVault

from tests.azure.conftest import APP, READER
from tests.lifecycle_scenarios import LifecycleScenarios, VaultService
from tests.servers.azure_keyvault import KeyVaultEndpoint


class KeyVaultService(VaultService):
    provider = "azure"
    forms = ("bare", "line")
    refused_write = "(caller appid=envdrift-reader) may not write secrets"
    vault_class = AzureVault

    def __init__(self, url: str, client: Any, sign_in_as: Callable[..., None]) -> None:
        self.url, self.client, self.sign_in_as = url, client, sign_in_as

    def secret(self) -> str:
        return "app-key"  # in this test's own vault

    def options(self) -> Mapping[str, str]:
        return {"vault_url": self.url}

    def put(self, secret: str, value: str) -> None:
        self.client.set_secret(secret, value)

    def current(self, secret: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            value: str = self.client.get_secret(secret).value
        except ResourceNotFoundError:
            return None
        return value

    def older(self, secret: str) -> list[str]:
        latest = self.client.get_secret(secret).properties.version
        return [
            self.client.get_secret(secret, props.version).value
            for props in self.client.list_properties_of_secret_versions(secret)
            if props.version != latest
        ]

    @contextmanager
    def read_only(self) -> Iterator[None]:
        self.sign_in_as(READER)
        try:
            yield
        finally:
            self.sign_in_as(APP)


class KeyVaultServiceFixture:
    """The ``service`` fixture of the scenario classes run against the test server."""

    @pytest.fixture
    def service(
        self, keyvault: KeyVaultEndpoint, sign_in_as: Callable[..., None], own_vault: str
    ) -> Iterator[KeyVaultService]:
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        sign_in_as(APP)
        url = keyvault.vault_url(own_vault)
        # Built while signed in as the app that may do everything: the test's own view.
        credential = DefaultAzureCredential(disable_instance_discovery=True)
        with SecretClient(url, credential) as client:
            yield KeyVaultService(url, client, sign_in_as)


class TestLifecycleAzure(KeyVaultServiceFixture, LifecycleScenarios):
    @pytest.fixture(params=KeyVaultService.forms)
    def form(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)
