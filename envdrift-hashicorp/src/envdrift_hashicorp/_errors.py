"""Turn hvac's and requests' exceptions into envdrift errors that say what to do.

Every message names the Vault (address, mount, namespace), what envdrift tried, and the
fix: the policy stanza a denied token needs, the ``vault`` command that shows what is
there, the environment variable to set. hvac and requests are imported inside the
functions: this module is imported when the plugin loads, which must stay cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envdrift import (
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    VaultError,
)

from envdrift_hashicorp._credentials import NO_CREDENTIAL_HELP

if TYPE_CHECKING:
    from envdrift import EnvdriftError, Secret

    from envdrift_hashicorp._settings import Settings

__all__ = [
    "errors_text",
    "is_cas_conflict",
    "login_failed",
    "missing_sdk",
    "no_route",
    "not_found",
    "sdk_errors",
    "translate",
    "translate_write",
]

_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\"()]+)")
_CAS_MISMATCH = "check-and-set parameter did not match"
#: Statuses hvac has no exception of its own for and a retry may cure (412: a
#: performance standby is behind; 504: a gateway timed out).
_RETRY_STATUSES = frozenset({412, 504})


@dataclass(frozen=True)
class _Call:
    """One request, and the Vault it went to, described for error messages.

    Attributes:
        action: What envdrift tried, e.g. ``read secret 'apps/api'``.
        api_path: The Vault API path (what a policy names), e.g. ``secret/data/apps/api``.
        capabilities: What a policy must grant on ``api_path``.
        vault: How the vault is named (its ``describe()``).
        settings: The backend's settings (address, mount, namespace, timeout).
        token_name: How messages call the token in use (``the token in VAULT_TOKEN``).
        name: The secret name, when there is one.
        folder: The folder to suggest to ``vault kv list``.
        kv_assumed: Whether the mount's KV version was assumed (the mount was not visible).
        token_is_valid: Asks Vault whether the token works at all (a 403 means either
            "not allowed" or "bad token").
    """

    action: str
    api_path: str
    capabilities: tuple[str, ...]
    vault: str
    settings: Settings
    token_name: str = "the token"
    name: str | None = None
    folder: str = ""
    kv_assumed: bool = False
    token_is_valid: Callable[[], bool] = field(default=lambda: True, compare=False, repr=False)

    @property
    def cli_namespace(self) -> str:
        """The ``-namespace=…`` argument of the ``vault`` CLI, or nothing."""
        namespace = self.settings.namespace
        return f"-namespace={namespace} " if namespace else ""

    @property
    def cli_path(self) -> str:
        """The path as the ``vault kv`` commands write it (mount/path, no ``data/``)."""
        target = self.name if self.name is not None else self.folder
        return f"{self.cli_namespace}{self.settings.mount}/{target}"


def missing_sdk(exc: ImportError) -> ConfigError:
    """The error for an environment where hvac cannot be imported."""
    return ConfigError(
        f"vault 'hashicorp' needs hvac, which cannot be imported ({exc}). "
        "Install it with: pip install hvac"
    )


def no_route(exc: BaseException) -> bool:
    """Whether a 404 means "no secrets engine at this mount" rather than "no secret"."""
    return "no handler for route" in errors_text(exc)


def is_cas_conflict(exc: BaseException) -> bool:
    """Whether a KV v2 write failed its check-and-set: someone wrote a newer version."""
    return _CAS_MISMATCH in errors_text(exc)


def translate_write(exc: BaseException, call: _Call) -> EnvdriftError:
    """Like ``translate``, for a write: a failure after which Vault may have stored the
    value is not retried."""
    error = translate(exc, call)
    if isinstance(error, UnavailableError) and not _surely_unapplied(exc):
        # Vault may have stored it before failing; a repeat would then fail
        # check-and-set (KV v2) or write twice (KV v1): report, do not repeat.
        error.transient = False
    return error


def login_failed(
    exc: BaseException,
    call: _Call,
    method: str,
    what: str,
    check: str,
    conceal: Secret | None = None,
) -> EnvdriftError:
    """A refused login, in one line: what was tried, Vault's reason, what to check.

    Args:
        exc: What hvac or requests raised.
        call: The login request.
        method: The auth method, for messages (``AppRole``, ``JWT``).
        what: The login, for messages (``JWT login as role 'ci' at auth/jwt``).
        check: What the user should check.
        conceal: A credential that must not appear in the message, even if Vault echoed it.
    """
    import hvac.exceptions as hx

    if not isinstance(exc, hx.InvalidRequest | hx.Forbidden | hx.Unauthorized | hx.InvalidPath):
        return translate(exc, call)
    mount = call.api_path.removesuffix("/login")
    detail = errors_text(exc) or type(exc).__name__
    if isinstance(exc, hx.InvalidPath):
        detail = f"no {method} auth method is mounted at {mount}"
    elif isinstance(exc, hx.Forbidden) and detail.endswith("permission denied"):
        # Vault's answer to a login at a path where no auth method is enabled.
        detail = f"permission denied: is a {method} auth method enabled at {mount}?"
    if conceal is not None:  # Vault does not echo the JWT; make sure of it
        detail = detail.replace(conceal.reveal(), "***")
    return PermissionDeniedError(f"{call.vault}: {what} failed ({_short(detail)}). {check}")


def not_found(call: _Call) -> NotFoundError:
    """The error for a secret (or folder) that is not there, with how to look."""
    mount = call.settings.mount
    hint = f" List what is there with: vault kv list {call.cli_namespace}{mount}/{call.folder}"
    name = call.name or ""
    if name.startswith(mount + "/"):
        hint += (
            f". secret_name is the path under the mount: did you mean "
            f"{name.removeprefix(mount + '/')!r}?"
        )
    if call.kv_assumed:
        hint += ". If the mount is KV version 1, set [vault.hashicorp] kv_version = 1"
    return NotFoundError(
        f"secret {name!r} not found in {call.vault}: nothing at {call.api_path}.{hint}"
    )


def translate(exc: BaseException, call: _Call) -> EnvdriftError:
    """Turn an hvac or requests exception into an envdrift error that says what to do."""
    import hvac.exceptions as hx
    import requests.exceptions as rx

    from envdrift_hashicorp._http import last_response

    settings = call.settings
    where = call.vault
    address = f"{settings.address} (from {settings.address_source})"
    if isinstance(exc, hx.Forbidden):
        if not call.token_is_valid():
            return PermissionDeniedError(
                f"{where} rejected {call.token_name}: it is invalid, expired or "
                f"revoked (cannot {call.action}). Log in again: {NO_CREDENTIAL_HELP}"
            )
        caps = ", ".join(f'"{c}"' for c in call.capabilities)
        needs = " and ".join(f"'{c}'" for c in call.capabilities)
        ns = f" (in namespace '{settings.namespace}')" if settings.namespace else ""
        return PermissionDeniedError(
            f"permission denied: cannot {call.action} in {where}: "
            f"{call.token_name} needs {needs} on {call.api_path}. A policy{ns} stanza "
            f'that grants it: path "{call.api_path}" {{ capabilities = [{caps}] }}'
        )
    if isinstance(exc, hx.InvalidPath):
        if no_route(exc):
            return NotFoundError(
                f"cannot {call.action}: {where} has no secrets engine mounted at "
                f"'{settings.mount}/' (looked for {call.api_path}). Set "
                "[vault.hashicorp] mount to a KV mount; `vault secrets list` shows them"
            )
        return not_found(call)
    if isinstance(exc, hx.Unauthorized):
        return PermissionDeniedError(
            f"{where} refused {call.token_name} (401) when trying to {call.action}"
        )
    status, retry_after = last_response()
    if isinstance(
        exc,
        hx.VaultDown
        | hx.InternalServerError
        | hx.BadGateway
        | hx.RateLimitExceeded
        | hx.VaultNotInitialized,
    ) or (isinstance(exc, hx.UnexpectedError) and status in _RETRY_STATUSES):
        text = errors_text(exc)
        if "sealed" in text.lower():
            return UnavailableError(
                f"Vault at {address} is sealed: it must be unsealed "
                "(`vault operator unseal`) before envdrift can read or write secrets",
                transient=False,  # it takes a person to unseal it
            )
        if "not initialized" in text.lower() or isinstance(exc, hx.VaultNotInitialized):
            return UnavailableError(f"Vault at {address} is not initialized", transient=False)
        kind = "rate-limited the request" if isinstance(exc, hx.RateLimitExceeded) else "failed"
        return UnavailableError(
            f"Vault at {address} {kind} to {call.action}: {_short(text) or f'HTTP {status}'}",
            retry_after=retry_after,
        )
    if isinstance(exc, rx.SSLError):
        return VaultError(
            f"TLS with Vault at {address} failed ({_reason(exc)}). Point VAULT_CACERT at "
            "the CA certificate that signed the server's certificate (or VAULT_CAPATH at a "
            "directory of them); VAULT_SKIP_VERIFY=true turns verification off"
        )
    if _timed_out(exc):
        return UnavailableError(
            f"Vault at {address} did not answer within {settings.timeout:g} s "
            f"when trying to {call.action}"
        )
    if isinstance(exc, rx.ConnectionError) and _reset(exc):
        return UnavailableError(
            f"the connection to Vault at {address} broke when trying to {call.action} "
            f"({_reason(exc)}); try again"
        )
    if isinstance(exc, rx.ConnectionError):
        return UnavailableError(
            f"cannot reach Vault at {address}: {_reason(exc)}. Is the server running and "
            "is the address right? (--vault-url, [vault.hashicorp] url, VAULT_ADDR)"
        )
    if isinstance(exc, rx.RequestException):
        return UnavailableError(f"request to Vault at {address} failed: {_reason(exc)}")
    text = errors_text(exc) or type(exc).__name__
    return VaultError(f"{where} refused to {call.action}: {_short(text)}")


def sdk_errors() -> tuple[type[BaseException], ...]:
    """The exceptions hvac and requests raise for a failed request (imported lazily)."""
    import hvac.exceptions
    import requests.exceptions

    return (hvac.exceptions.VaultError, requests.exceptions.RequestException)


def _surely_unapplied(exc: BaseException) -> bool:
    """Whether a failed request cannot have been applied: throttled, or never connected."""
    import hvac.exceptions
    import requests.exceptions
    import urllib3.exceptions

    if isinstance(exc, hvac.exceptions.RateLimitExceeded):
        return True
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _timed_out(exc: BaseException) -> bool:
    """Whether a requests error is a timeout (requests reports an unretried one as
    ``ConnectionError(MaxRetryError(reason=ReadTimeoutError))``)."""
    import requests.exceptions
    import urllib3.exceptions

    if isinstance(exc, requests.exceptions.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    errors = urllib3.exceptions
    # urllib3's NewConnectionError (refused, unresolvable) subclasses ConnectTimeoutError.
    return isinstance(reason, errors.ReadTimeoutError) or (
        isinstance(reason, errors.ConnectTimeoutError)
        and not isinstance(reason, errors.NewConnectionError)
    )


def _reset(exc: BaseException) -> bool:
    """Whether a requests ``ConnectionError`` broke an open connection (not: never opened)."""
    import urllib3.exceptions

    reason = getattr(exc.args[0], "reason", exc.args[0]) if exc.args else None
    return isinstance(reason, urllib3.exceptions.ProtocolError)


def errors_text(exc: BaseException) -> str:
    """Vault's own error strings (``{"errors": [...]}``), joined; never a request body."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list):
        return "; ".join(" ".join(str(e).split()) for e in errors if e)
    return ""


def _reason(exc: BaseException) -> str:
    """The root cause of a requests error in a few words, e.g. ``Connection refused``."""
    text = str(exc)
    found = _ERRNO_TEXT.search(text)
    if found:
        return found.group(1).strip()
    cause: BaseException | None = exc
    while cause is not None and cause.__context__ is not None:
        cause = cause.__context__
    return _short(str(cause or exc))


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
