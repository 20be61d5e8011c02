"""Conformance tests a vault plugin inherits, in the spirit of keyring's ``BackendBasicTests``.

Usage, in a plugin's own test suite::

    from envdrift.testing import VaultContract

    class TestMyVault(VaultContract):
        plugin_module = "envdrift_myvault"
        entry_point_name = "myvault"
        sdk_modules = ("mysdk",)

        @pytest.fixture
        def vault(self):
            return MyVault({"url": ...}, VaultContext())

Nothing here activates itself: importing this module defines classes, no fixtures are
registered in anybody's test run unless they subclass or opt in through
``pytest_plugins = ["envdrift.testing.fixtures"]``.
"""

from __future__ import annotations

from envdrift.testing.contract import KeyVerifierContract, VaultContract

__all__ = ["KeyVerifierContract", "VaultContract"]
