"""The AWS backend passes envdrift's vault contract against a real moto_server."""

from __future__ import annotations

import pytest
from envdrift import PluginRegistry, Vault, VaultContext
from envdrift.testing import VaultContract


class TestAwsVaultContract(VaultContract):
    plugin_module = "envdrift_aws"
    entry_point_name = "aws"
    sdk_modules = ("boto3", "botocore")

    @pytest.fixture
    def vault(self, aws_env: str) -> Vault:
        return PluginRegistry().make_vault("aws", {}, VaultContext())
