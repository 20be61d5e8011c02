"""envdrift's Azure Key Vault backend (``azure``).

Importing this module is cheap: it imports ``envdrift`` and its own small modules only.
The Azure SDK (``azure-keyvault-secrets``, ``azure-identity``) is imported the first time
a vault is used, inside ``AzureVault``'s methods.

Layout (the same in every backend): this module holds the hook; ``vault.py`` the
``Vault`` subclass and its SDK calls; ``_errors.py`` the translation of SDK exceptions
into envdrift errors (each request described by a ``_Call``); ``_settings.py`` the
options and environment, resolved without the SDK.
"""

from __future__ import annotations

from envdrift import Vault, hookimpl

from envdrift_azure._settings import VERIFY_CHALLENGE_RESOURCE_ENV
from envdrift_azure.vault import AzureVault

__all__ = ["VERIFY_CHALLENGE_RESOURCE_ENV", "AzureVault", "envdrift_register_vaults"]


@hookimpl
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``azure`` vault."""
    return [AzureVault]
