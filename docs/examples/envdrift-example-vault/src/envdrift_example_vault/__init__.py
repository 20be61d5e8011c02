"""An example envdrift plugin: the ``jsonfile`` vault keeps secrets in one JSON file.

envdrift imports this module (the entry point in pyproject.toml names it) the first
time it needs a vault, and calls the hook below. Keep this module cheap to import: it
imports only ``envdrift`` and the standard library, and a backend that needs an SDK
imports it inside its methods.
"""

from __future__ import annotations

from envdrift import Vault, hookimpl

from envdrift_example_vault.vault import JsonFileVault

__all__ = ["JsonFileVault", "envdrift_register_vaults"]


@hookimpl
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``jsonfile`` vault."""
    return [JsonFileVault]
