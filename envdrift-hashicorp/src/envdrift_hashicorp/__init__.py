"""envdrift's ``hashicorp`` vault: HashiCorp Vault (and OpenBao) KV secrets engines.

Install with ``pip install 'envdrift[hashicorp]'`` (README.md says how before the PyPI
release); envdrift finds it through the ``envdrift`` entry point. Importing this module
imports only ``envdrift``: hvac and requests load the first time the backend talks to
Vault.

Layout (the same in every backend): this module holds the hook; ``vault.py`` the
``Vault`` subclass and its SDK calls; ``_errors.py`` the translation of SDK exceptions
into envdrift errors (each request described by a ``_Call``); ``_settings.py`` the
options and environment, resolved without the SDK. Two more private modules:
``_credentials.py`` finds the token or login (VAULT_TOKEN, ~/.vault-token, AppRole,
JWT; it may ask GitHub Actions' OIDC endpoint, so it is not a mere setting), and
``_http.py`` builds the HTTP session under hvac (it imports requests at module level, so
it loads only when the backend first talks to Vault).
"""

from __future__ import annotations

from envdrift import Vault, hookimpl

from envdrift_hashicorp.vault import HashicorpVault

__all__ = ["HashicorpVault", "envdrift_register_vaults"]


@hookimpl
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``hashicorp`` vault."""
    return [HashicorpVault]
