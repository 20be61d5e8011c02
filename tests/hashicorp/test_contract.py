"""The ``hashicorp`` vault passes the conformance suite every backend inherits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from envdrift import Vault
from envdrift.testing import VaultContract

from tests.servers.openbao import OpenBao


class TestHashicorpVaultContract(VaultContract):
    plugin_module = "envdrift_hashicorp"
    entry_point_name = "hashicorp"
    sdk_modules = ("hvac", "requests", "urllib3")

    @pytest.fixture
    def vault(self, vault_env: OpenBao, make_vault: Callable[..., Vault]) -> Vault:
        return make_vault()


class TestHashicorpVaultContractKV1(TestHashicorpVaultContract):
    """The same suite on a KV version 1 mount (detected, not configured)."""

    @pytest.fixture
    def vault(self, vault_env: OpenBao, make_vault: Callable[..., Vault]) -> Vault:
        return make_vault({"mount": "legacy"})
