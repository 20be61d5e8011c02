"""The vault contract, run against the Key Vault test server through the real SDK."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from envdrift.testing import VaultContract
from envdrift_azure import AzureVault


class TestAzureVaultContract(VaultContract):
    plugin_module = "envdrift_azure"
    entry_point_name = "azure"
    sdk_modules = ("azure", "msal", "requests")

    @pytest.fixture
    def vault(self, make_vault: Callable[..., AzureVault]) -> AzureVault:
        return make_vault()
