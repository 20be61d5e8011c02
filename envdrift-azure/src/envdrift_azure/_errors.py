"""Turning Azure SDK exceptions into envdrift errors that say what to do.

The Azure SDK's messages are long (``DefaultAzureCredential`` lists nine credentials and
two troubleshooting links) and rarely name the permission that is missing. Each branch
below keeps the part of the SDK's reason a user can act on and adds the fix: the ``az``
command, the permission or role, the environment variable.

The SDK is imported inside ``translate`` only; this module is imported by the backend at
plugin load time, which must stay cheap.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Literal

from envdrift import (
    ConfigError,
    EnvdriftError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    VaultError,
    parse_retry_after,
)

__all__ = ["Operation", "missing_sdk", "translate"]

Operation = Literal["get", "list", "set"]

#: The access-policy permission and the least RBAC role each operation needs.
_NEEDS: dict[Operation, tuple[str, str, str]] = {
    "get": ("read", "get", "Key Vault Secrets User"),
    "list": ("list", "list", "Key Vault Secrets User"),
    "set": ("write", "set", "Key Vault Secrets Officer"),
}

#: Entra error codes users hit, and what to do about each.
_AADSTS_FIXES = {
    "7000215": "AZURE_CLIENT_SECRET is wrong (use the secret's value, not its ID)",
    "7000222": "the client secret in AZURE_CLIENT_SECRET has expired; create a new one",
    "700016": "AZURE_CLIENT_ID names no application in tenant AZURE_TENANT_ID",
    "90002": "AZURE_TENANT_ID names no tenant",
    "900023": "AZURE_TENANT_ID is not a valid tenant id or domain",
}

_SIGN_IN_HELP = (
    "run `az login`, or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a "
    "service principal (in Azure, a managed identity needs no setup)"
)


@dataclass(frozen=True)
class _Call:
    """One Key Vault request, as error messages name it.

    Attributes:
        operation: ``get``, ``list`` or ``set``, to name the missing permission.
        vault: How the vault is named, e.g. ``vault 'azure' (https://kv.vault.azure.net/)``.
        vault_url: The vault's URL, for the ``az`` commands a message suggests.
        secret: The secret it was about, or ``None`` (listing).
    """

    operation: Operation
    vault: str
    vault_url: str
    secret: str | None = None

    @property
    def az_vault(self) -> str:
        """The ``az keyvault`` arguments that select this vault."""
        host = urllib.parse.urlsplit(self.vault_url).hostname or ""
        name, _, suffix = host.partition(".")
        if suffix.startswith("vault.") and name:
            return f"--vault-name {name}"
        return f"--id {self.vault_url}"

    @property
    def vault_name(self) -> str:
        """The vault's name, or its URL when the host is not ``<name>.vault.…``."""
        arg = self.az_vault
        return arg.removeprefix("--vault-name ") if arg.startswith("--vault-name") else "<vault>"

    @property
    def subject(self) -> str:
        return f"secret {self.secret!r} in {self.vault}" if self.secret else self.vault


def missing_sdk(exc: ImportError) -> ConfigError:
    """The error for an environment where the Azure SDK cannot be imported."""
    return ConfigError(
        f"vault 'azure' needs azure-identity and azure-keyvault-secrets, which cannot "
        f"be imported ({exc}). Install them with: "
        "pip install azure-identity azure-keyvault-secrets"
    )


def translate(exc: BaseException, call: _Call) -> EnvdriftError:
    """Return the envdrift error for an exception raised by the Azure SDK.

    Args:
        exc: What the SDK (or azure-identity, or the transport) raised.
        call: The request that raised it.

    Returns:
        An ``EnvdriftError`` subclass for the caller to raise ``from exc`` (the CLI shows
        only its message; ``--debug`` shows the SDK's traceback as the cause).
    """
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, ClientAuthenticationError):
        status = exc.response.status_code if exc.response is not None else None
        if status == 401:
            return _service_refused_token(exc, call)
        return _sign_in_failed(str(exc.message or exc), call)
    if isinstance(exc, ResourceNotFoundError):
        return NotFoundError(
            f"{call.subject} not found. See which secrets exist: "
            f"az keyvault secret list {call.az_vault} --query '[].name'"
        )
    if isinstance(exc, ResourceExistsError) and _inner_code(exc) == "ObjectIsDeletedButRecoverable":
        return VaultError(
            f"{call.subject} was deleted and is still recoverable, so the name cannot be "
            f"reused: recover it (az keyvault secret recover {call.az_vault} --name "
            f"{call.secret}) or purge it (az keyvault secret purge {call.az_vault} --name "
            f"{call.secret}), then try again"
        )
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        return _http_error(exc, exc.status_code, call)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return _unreachable(str(exc.message or exc), call)
    if isinstance(exc, ValueError) and "challenge resource" in str(exc):
        return ConfigError(
            f"{call.vault} asked for a token for another resource than its host "
            f"({_first_sentence(str(exc))}) For a Key Vault emulator or a private endpoint "
            "whose host name is not <name>.vault.azure.net, set "
            "ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE=0"
        )
    return VaultError(f"{call.subject}: {type(exc).__name__}: {_first_line(str(exc))}")


def _http_error(exc: BaseException, status: int, call: _Call) -> EnvdriftError:
    inner = _inner_code(exc)
    said = _service_message(exc)
    if status == 403 and inner == "SecretDisabled":
        return PermissionDeniedError(
            f"{call.subject} is disabled. Enable it (az keyvault secret set-attributes "
            f"{call.az_vault} --name {call.secret} --enabled true) or store a new version"
        )
    if status == 403 and inner == "ForbiddenByFirewall":
        return PermissionDeniedError(
            f"{call.vault} refuses this network address (firewall): add it to the "
            f"vault's networking rules or connect through its private endpoint ({said})"
        )
    if status == 403:
        verb, permission, role = _NEEDS[call.operation]
        caller = re.search(r"appid=([^;'\s]+)", said)
        who = f" (caller appid={caller.group(1)})" if caller else ""
        return PermissionDeniedError(
            f"the signed-in identity{who} may not {verb} secrets in {call.vault}: "
            f"grant it the secret permission '{permission}' (az keyvault set-policy --name "
            f"{call.vault_name} --secret-permissions {permission} …) or, on an RBAC vault, "
            f"the role '{role}'"
        )
    if status == 400:
        return ConfigError(f"{call.vault} refused the request for {call.subject}: {said}")
    if status == 429 or status >= 500:
        return UnavailableError(
            f"{call.vault} answered {status} ({said}); try again later",
            retry_after=_retry_after(exc),
        )
    return VaultError(f"{call.subject}: Key Vault answered {status}: {said}")


def _service_refused_token(exc: BaseException, call: _Call) -> PermissionDeniedError:
    said = _service_message(exc)
    return PermissionDeniedError(
        f"{call.vault} refused the access token ({said}). The vault must belong to the "
        "tenant you sign in to: check AZURE_TENANT_ID or `az account show`"
    )


def _sign_in_failed(message: str, call: _Call) -> VaultError:
    """Shorten ``DefaultAzureCredential``'s report to the reason that matters and the fix.

    The chain lists every credential it tried. Those that were merely unavailable (not
    configured, tool not installed) are noise; the chain stops at the first one that
    really failed, and that one's reason is what the user must fix.
    """
    tenant = re.search(r"not configured to acquire tokens for tenant (\S+?)\.?\s", message + " ")
    if tenant:
        return PermissionDeniedError(
            f"{call.vault} belongs to tenant {tenant.group(1)}, but the Azure credential "
            f"is for another tenant: set AZURE_TENANT_ID={tenant.group(1)} or run "
            f"`az login --tenant {tenant.group(1)}`"
        )
    failures = []
    for line in message.splitlines():
        name, sep, reason = line.strip().partition(": ")
        is_credential = sep and name.endswith("Credential") and " " not in name
        if is_credential and not _UNAVAILABLE.search(reason):
            failures.append((name, reason))
    if not failures and not message.lstrip().startswith("DefaultAzureCredential"):
        failures.append(("", message))
    if not failures:
        return PermissionDeniedError(
            f"no Azure credential is available for {call.vault}: {_SIGN_IN_HELP}"
        )
    name, reason = failures[0]
    where = f"{name}: " if name else ""
    if _NETWORK.search(reason):
        return UnavailableError(
            f"cannot reach the Azure sign-in endpoint for {call.vault}: "
            f"{where}{_network_hint(reason, 'the sign-in endpoint (AZURE_AUTHORITY_HOST)')}"
        )
    return PermissionDeniedError(
        f"cannot sign in to Azure for {call.vault}: {where}{_shorten_reason(reason)}"
    )


#: How credentials that were merely not set up describe themselves.
_UNAVAILABLE = re.compile(
    r"unavailable|not installed|to be installed|not found on path|could not be found|"
    r"No accounts were found|requires the '",
    re.IGNORECASE,
)
_NETWORK = re.compile(
    r"CERTIFICATE_VERIFY_FAILED|Failed to resolve|Name or service not known|"
    r"Failed to establish a new connection|Connection refused|timed out|Max retries exceeded"
)


def _shorten_reason(reason: str) -> str:
    code = re.search(r"AADSTS(\d+)", reason)
    if code and code.group(1) in _AADSTS_FIXES:
        return f"AADSTS{code.group(1)}: {_AADSTS_FIXES[code.group(1)]}"
    if code:
        return _first_sentence(reason[code.start() :])
    if "az login" in reason:
        return "the Azure CLI is not logged in: run `az login`"
    return _first_sentence(reason.removeprefix("Authentication failed: "))


def _unreachable(message: str, call: _Call) -> UnavailableError:
    return UnavailableError(
        f"cannot reach {call.vault}: {_network_hint(message, 'the vault name or URL')}",
        # An untrusted certificate stays untrusted: a retry cannot help.
        transient="CERTIFICATE_VERIFY_FAILED" not in message,
    )


def _retry_after(exc: BaseException) -> float | None:
    """How long the service asked to wait: ``retry-after-ms`` or ``Retry-After``."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        millis = parse_retry_after(headers.get(name))
        if millis is not None:
            return millis / 1000
    return parse_retry_after(headers.get("retry-after"))


def _network_hint(message: str, what_to_check: str) -> str:
    """The transport's reason without urllib3's object reprs, plus what to do about it."""
    reason = re.sub(r"<[^>]*>: |\w*Connection\w*\(host=[^)]*\): ", "", message)
    reason = _first_sentence(reason.removeprefix("Authentication failed: "))
    if "CERTIFICATE_VERIFY_FAILED" in message:
        return (
            "the TLS certificate is not trusted; if a private CA (or a TLS-inspecting "
            f"proxy) signs it, point REQUESTS_CA_BUNDLE at that CA ({reason})"
        )
    if re.search(r"Failed to resolve|Name or service not known|nodename nor servname", message):
        return f"the host name does not resolve; check {what_to_check} ({reason})"
    return reason


def _inner_code(exc: BaseException) -> str | None:
    error = getattr(exc, "error", None)
    inner = getattr(error, "innererror", None)
    if isinstance(inner, dict):
        code = inner.get("code")
        return str(code) if code else None
    return None


def _service_message(exc: BaseException) -> str:
    """Key Vault's own message, first line, without its boilerplate help link."""
    error = getattr(exc, "error", None)
    text = str(getattr(error, "message", None) or getattr(exc, "reason", None) or exc)
    text = text.split(" For help resolving this issue")[0]
    return _first_line(text)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 300 else line[:297] + "…"


def _first_sentence(text: str) -> str:
    line = _first_line(text)
    match = re.match(r"(.+?\.)(\s|$)", line)
    return match.group(1) if match else line
