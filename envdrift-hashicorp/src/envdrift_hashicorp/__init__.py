"""envdrift's ``hashicorp`` vault: HashiCorp Vault (and OpenBao) KV secrets engines.

Install with ``pip install 'envdrift[hashicorp]'``; envdrift finds it through the
``envdrift`` entry point. Importing this module imports only ``envdrift``: hvac and
requests load the first time the backend talks to Vault.
"""

from __future__ import annotations

from envdrift import Vault, hookimpl

from envdrift_hashicorp.vault import HashicorpVault

__all__ = ["HashicorpVault", "envdrift_register_vaults"]


@hookimpl
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``hashicorp`` vault."""
    return [HashicorpVault]
