"""Which Key Vault to talk to, and how to sign in to it: pure functions, no SDK, no network.

Key Vault URLs are ``https://<vault-name>.<cloud suffix>/``. The suffix follows the cloud,
which the Entra authority host identifies (``AZURE_AUTHORITY_HOST``), so a China or US
Government user who sets the authority host gets the right vault URLs from a bare
``vault_name`` without further configuration.
"""

from __future__ import annotations

import re
import urllib.parse

from envdrift import ConfigError

__all__ = [
    "PUBLIC_AUTHORITY_HOST",
    "check_secret_name",
    "check_vault_name",
    "normalise_authority",
    "normalise_vault_url",
    "vault_url_from_template",
]

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
