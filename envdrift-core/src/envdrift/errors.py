"""The exception hierarchy every part of envdrift raises.

Library code raises these; only ``envdrift.cli`` turns them into ``Error: …`` lines and
exit codes. Messages say what went wrong, which thing, where, and how to fix it, and
never contain a secret value.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DecryptionError",
    "EnvdriftError",
    "FormatError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginLoadError",
    "UnavailableError",
    "UnknownVaultError",
    "UnsupportedOperation",
    "VaultError",
]


class EnvdriftError(Exception):
    """Base class of every error envdrift raises on purpose.

    ``exit_code`` is what the CLI exits with when this error ends a command: 1 for
    failures, 2 for usage and configuration errors.
    """

    exit_code: int = 1


class ConfigError(EnvdriftError):
    """The configuration or the command line is wrong; the user must edit something."""

    exit_code = 2


class FormatError(EnvdriftError):
    """A file or a value is malformed (an env file, a key, a ciphertext, a vault value)."""


class DecryptionError(EnvdriftError):
    """A private key could not decrypt a value it was supposed to decrypt."""


class VaultError(EnvdriftError):
    """A vault backend failed. Subclasses say why; ``transient`` says a retry may help.

    ``transient`` is a class attribute here, not an argument: raise ``UnavailableError``
    (which takes ``transient=``) for a failure a repeat may cure.
    """

    transient: bool = False


class NotFoundError(VaultError):
    """The secret (or the path, or the vault) does not exist."""


class PermissionDeniedError(VaultError):
    """The vault refused: missing credentials, a bad token, or a missing permission."""


class UnavailableError(VaultError):
    """The vault cannot be reached or is not serving (network, 5xx, throttling, sealed).

    Args:
        message: What failed, which vault, and what to do (never a secret value).
        retry_after: Seconds the server asked the client to wait (``Retry-After``), if it
            said; ``envdrift.retry`` waits at least that long before trying again.
        transient: ``False`` when a repeat could do harm or cannot help (a write the
            server may already have applied); such an error is not retried.
    """

    transient = True

    def __init__(
        self, message: str = "", *, retry_after: float | None = None, transient: bool = True
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.transient = transient


class UnsupportedOperation(VaultError):
    """The backend does not offer this optional operation (``Vault.list``, ``Vault.check``).

    ``Vault``'s own ``list`` and ``check`` raise it, so a backend that does not override
    them declares them unsupported (``Vault.supports``); a backend may also raise it
    itself when support depends on its configuration. ``VaultContract`` skips the tests
    of an unsupported operation.
    """


class PluginLoadError(EnvdriftError):
    """A plugin could not be imported or registered."""


class UnknownVaultError(ConfigError):
    """No installed plugin provides the vault that was asked for."""
