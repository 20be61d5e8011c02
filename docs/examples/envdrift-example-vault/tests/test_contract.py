"""The conformance suite every envdrift vault passes, run against ``jsonfile``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from envdrift import Vault, VaultContext
from envdrift.testing import VaultContract

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.testing.fixtures import RegistryFactory


class TestJsonFileVault(VaultContract):
    # The module the entry point names, and the entry point's name.
    plugin_module = "envdrift_example_vault"
    entry_point_name = "jsonfile"
    # Top-level modules of the SDK that importing the plugin must not import. This
    # backend needs no SDK; an AWS plugin would say ("boto3", "botocore").
    sdk_modules = ()

    @pytest.fixture
    def vault(self, plugin_registry: RegistryFactory, tmp_path: Path) -> Vault:
        (tmp_path / "secrets.json").write_text("{}")
        # Built the way envdrift builds it: found through the installed entry point.
        registry = plugin_registry(load_entry_points=True)
        return registry.make_vault(
            "jsonfile", {"path": "secrets.json"}, VaultContext(base_dir=tmp_path)
        )
