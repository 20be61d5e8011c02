"""envdrift's Azure Key Vault backend (``azure``).

Importing this module is cheap: it imports ``envdrift`` and its own small modules only.
The Azure SDK (``azure-keyvault-secrets``, ``azure-identity``) is imported the first time
a vault is used, inside ``AzureVault``'s methods.
"""

from __future__ import annotations

from envdrift import Vault, hookimpl

from envdrift_azure.vault import VERIFY_CHALLENGE_RESOURCE_ENV, AzureVault

__all__ = ["VERIFY_CHALLENGE_RESOURCE_ENV", "AzureVault", "envdrift_register_vaults"]


@hookimpl
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``azure`` vault."""
    return [AzureVault]
