"""Which Key Vault to talk to, and how to sign in to it: no SDK, no network.

Key Vault URLs are ``https://<vault-name>.<cloud suffix>/``. The suffix follows the cloud,
which the Entra authority host identifies (``AZURE_AUTHORITY_HOST``), so a China or US
Government user who sets the authority host gets the right vault URLs from a bare
``vault_name`` without further configuration.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envdrift import ConfigError, require_str

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "OPTION_KEYS",
    "PUBLIC_AUTHORITY_HOST",
    "VERIFY_CHALLENGE_RESOURCE_ENV",
    "Settings",
    "check_secret_name",
    "check_vault_name",
    "normalise_authority",
    "normalise_vault_url",
    "vault_url_from_template",
]

OPTION_KEYS = frozenset({"vault_url", "vault_url_template", "authority_host"})

#: ``0`` relaxes the SDK's check that the vault's 401 challenge names a resource matching
#: the vault's host (for Key Vault emulators and private endpoints with their own names).
VERIFY_CHALLENGE_RESOURCE_ENV = "ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE"

PUBLIC_AUTHORITY_HOST = "login.microsoftonline.com"

#: Microsoft's Entra authority hosts and the Key Vault DNS suffix of their cloud.
CLOUD_VAULT_SUFFIXES = {
    "login.microsoftonline.com": "vault.azure.net",
    "login.microsoft.com": "vault.azure.net",
    "login.windows.net": "vault.azure.net",
    "login.chinacloudapi.cn": "vault.azure.cn",
    "login.partner.microsoftonline.cn": "vault.azure.cn",
    "login.microsoftonline.us": "vault.usgovcloudapi.net",
    "login.usgovcloudapi.net": "vault.usgovcloudapi.net",
}

#: Key Vault secret names: letters, digits and dashes, 1-127 characters.
SECRET_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
#: Key Vault names: 3-24 characters, start with a letter, end with a letter or digit,
#: letters, digits and single dashes in between.
VAULT_NAME = re.compile(r"(?=.{3,24}\Z)[a-zA-Z](?:[a-zA-Z0-9]|-(?!-))*[a-zA-Z0-9]")


@dataclass(frozen=True)
class Settings:
    """How ``vault 'azure'`` signs in and builds vault URLs (``vault_url`` is per vault).

    Attributes:
        authority: The Entra authority URL for the credential, or ``None`` for the SDK's
            default (``[vault.azure] authority_host``, else ``AZURE_AUTHORITY_HOST``).
        discover_instance: Whether MSAL may ask login.microsoftonline.com about the
            authority: only for Microsoft's own hosts, where it knows the answer.
        vault_url_template: How a ``vault_name`` becomes a URL (one ``{name}``).
        verify_challenge_resource: The SDK's check that a 401 challenge names a resource
            matching the vault's host (``ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE``).
    """

    authority: str | None
    discover_instance: bool
    vault_url_template: str
    verify_challenge_resource: bool

    @classmethod
    def resolve(cls, options: Mapping[str, Any], name: str) -> Settings:
        """Read the merged options of vault ``name`` and the environment.

        Raises:
            ConfigError: an option or an environment variable is invalid.
        """
        authority = require_str(options, "authority_host", name)
        source = f"[vault.{name}] authority_host"
        if authority is None and os.environ.get("AZURE_AUTHORITY_HOST"):
            authority, source = os.environ["AZURE_AUTHORITY_HOST"], "AZURE_AUTHORITY_HOST"
        url: str | None = None
        host = PUBLIC_AUTHORITY_HOST
        if authority:
            url, host = normalise_authority(authority, source)
        template = require_str(options, "vault_url_template", name)
        return cls(
            authority=url,
            # For any other host (Azure Stack, a test server) the question can only fail;
            # the user chose the host, so trust it.
            discover_instance=host in CLOUD_VAULT_SUFFIXES,
            vault_url_template=(
                template or f"https://{{name}}.{CLOUD_VAULT_SUFFIXES.get(host, 'vault.azure.net')}/"
            ),
            verify_challenge_resource=_env_flag(VERIFY_CHALLENGE_RESOURCE_ENV, default=True),
        )


def check_secret_name(name: str, where: str) -> None:
    """Raise ``ConfigError`` unless ``name`` is a valid Key Vault secret name.

    Checked before any request, because Key Vault's own answer (400 "invalid name") does
    not say what is allowed, and ``DB_URL``-style env-var names are the classic mistake.
    """
    if SECRET_NAME.fullmatch(name):
        return
    rule = "Key Vault secret names may contain only letters, digits and dashes (1-127 characters)"
    if not name:
        raise ConfigError(f"empty secret name for {where}: {rule}")
    if len(name) > 127:
        raise ConfigError(
            f"secret name {name[:20]!r}… for {where} is {len(name)} characters: {rule}"
        )
    suggestion = re.sub(r"[^0-9a-zA-Z-]+", "-", name).strip("-")[:127]
    hint = f"; use {suggestion!r} instead" if SECRET_NAME.fullmatch(suggestion) else ""
    raise ConfigError(f"secret name {name!r} is not valid in {where}: {rule}{hint}")


def check_vault_name(name: str) -> None:
    """Raise ``ConfigError`` unless ``name`` is a valid Key Vault name."""
    if VAULT_NAME.fullmatch(name):
        return
    if "://" in name or "." in name:
        raise ConfigError(
            f"vault_name {name!r} looks like a URL or host name; vault_name takes the bare "
            "name (e.g. 'my-keyvault'), a full URL goes in [vault.azure] vault_url"
        )
    raise ConfigError(
        f"vault_name {name!r} is not a valid Key Vault name: 3-24 letters, digits and "
        "dashes, starting with a letter, ending with a letter or digit, no '--'"
    )


def normalise_vault_url(url: str, source: str) -> str:
    """Return ``https://host[:port]/`` for a vault URL, or raise ``ConfigError``.

    Args:
        url: What the user wrote.
        source: Where it came from, for the message (``--vault-url``, ``[vault.azure] …``).
    """
    text = url.strip()
    parts = urllib.parse.urlsplit(text)
    if not parts.scheme and VAULT_NAME.fullmatch(text):
        raise ConfigError(
            f"{source} {text!r} is a vault name, not a URL: write "
            f"'https://{text}.vault.azure.net/' or set vault_name = {text!r}"
        )
    if parts.scheme.lower() != "https":
        raise ConfigError(
            f"{source} {text!r} must start with https:// (Key Vault only accepts HTTPS; "
            "the SDK refuses to send a token over plain HTTP)"
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or parts.username or parts.password:
        raise ConfigError(f"{source} {text!r} is not a valid URL: expected https://<host>/")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError(
            f"{source} {text!r} must be just the vault's address, e.g. "
            "https://my-keyvault.vault.azure.net/ (no path, query or fragment)"
        )
    netloc = f"[{host}]" if ":" in host else host
    return f"https://{netloc}{f':{port}' if port and port != 443 else ''}/"


def vault_url_from_template(template: str, vault_name: str, source: str) -> str:
    """Put ``vault_name`` into ``template`` (one ``{name}``) and check the resulting URL."""
    if template.count("{name}") != 1 or re.search(r"[{}]", template.replace("{name}", "")):
        raise ConfigError(
            f"{source} {template!r} must contain '{{name}}' exactly once and no other "
            "braces, e.g. 'https://{name}.vault.azure.cn/'"
        )
    return normalise_vault_url(template.replace("{name}", vault_name), source)


def normalise_authority(value: str, source: str) -> tuple[str, str]:
    """Return ``(authority_url, host)`` for an authority host given as a URL or a host."""
    text = value.strip()
    parts = urllib.parse.urlsplit(text if "://" in text else f"https://{text}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if parts.scheme.lower() != "https" or not host or parts.path.strip("/"):
        raise ConfigError(
            f"{source} {text!r} must be an https authority host, e.g. "
            "'login.microsoftonline.us' or 'https://login.chinacloudapi.cn'"
        )
    netloc = f"{host}:{port}" if port and port != 443 else host
    return f"https://{netloc}", host.lower()


def _env_flag(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value: use 1 or 0")
