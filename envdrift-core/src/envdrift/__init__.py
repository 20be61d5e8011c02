"""envdrift: keep dotenvx private keys in a vault and in sync with every checkout.

The public API for plugin authors and library users is re-exported here. Names load
lazily so that ``envdrift --help`` stays cheap: importing ``envdrift`` imports nothing
else until an attribute is used.
"""

from __future__ import annotations

import importlib

from envdrift.__about__ import PLUGIN_API, __version__

#: ``typing.TYPE_CHECKING`` without importing typing, which would be most of what
#: ``envdrift --version`` costs (mypy and pyright know the idiom).
TYPE_CHECKING = False

__all__ = [
    "PLUGIN_API",
    "ConfigError",
    "Deadline",
    "DecryptionCheck",
    "DecryptionError",
    "EnvdriftError",
    "FormatError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginLoadError",
    "PluginRegistry",
    "RetryPolicy",
    "Secret",
    "SyncMapping",
    "UnavailableError",
    "UnknownVaultError",
    "UnsupportedOperation",
    "Vault",
    "VaultContext",
    "VaultError",
    "__version__",
    "hookimpl",
    "parse_retry_after",
    "require_str",
]

_LAZY = {
    "ConfigError": "envdrift.errors",
    "DecryptionError": "envdrift.errors",
    "EnvdriftError": "envdrift.errors",
    "FormatError": "envdrift.errors",
    "NotFoundError": "envdrift.errors",
    "PermissionDeniedError": "envdrift.errors",
    "PluginLoadError": "envdrift.errors",
    "UnavailableError": "envdrift.errors",
    "UnknownVaultError": "envdrift.errors",
    "UnsupportedOperation": "envdrift.errors",
    "VaultError": "envdrift.errors",
    "Secret": "envdrift.secrets",
    "SyncMapping": "envdrift.config",
    "Vault": "envdrift.vaults",
    "VaultContext": "envdrift.vaults",
    "require_str": "envdrift.vaults",
    "DecryptionCheck": "envdrift.hookspecs",
    "hookimpl": "envdrift.hookspecs",
    "PluginRegistry": "envdrift.plugins",
    "Deadline": "envdrift.retry",
    "RetryPolicy": "envdrift.retry",
    "parse_retry_after": "envdrift.retry",
}

if TYPE_CHECKING:
    from typing import Any

    from envdrift.config import SyncMapping
    from envdrift.errors import (
        ConfigError,
        DecryptionError,
        EnvdriftError,
        FormatError,
        NotFoundError,
        PermissionDeniedError,
        PluginLoadError,
        UnavailableError,
        UnknownVaultError,
        UnsupportedOperation,
        VaultError,
    )
    from envdrift.hookspecs import DecryptionCheck, hookimpl
    from envdrift.plugins import PluginRegistry
    from envdrift.retry import Deadline, RetryPolicy, parse_retry_after
    from envdrift.secrets import Secret
    from envdrift.vaults import Vault, VaultContext, require_str


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'envdrift' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
