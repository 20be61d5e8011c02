"""Where the Vault is and how to talk to it, resolved from options and the environment.

Resolution is cheap (no network, no SDK) and happens when the backend is built, so a
wrong option is a ``ConfigError`` before any request. Environment variables are the ones
the Vault CLI reads, with the meaning the Vault CLI gives them. Which credential to log
in with is ``_credentials.py``'s business.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args
from urllib.parse import urlsplit

from envdrift import ConfigError, require_str

if TYPE_CHECKING:
    from collections.abc import Mapping

    from envdrift import VaultContext

__all__ = ["DEFAULT_ADDRESS", "OPTION_KEYS", "Settings", "TlsSettings"]

#: What the Vault CLI uses when VAULT_ADDR is unset.
DEFAULT_ADDRESS = "https://127.0.0.1:8200"

OPTION_KEYS = frozenset(
    {
        "url",
        "namespace",
        "mount",
        "kv_version",
        "field",
        "auth",
        "approle_mount",
        "role_id_file",
        "secret_id_file",
        "jwt_role",
        "jwt_mount",
        "jwt_file",
        "jwt_audience",
    }
)

_NAME = "hashicorp"
# strconv.ParseBool, which the Vault CLI uses for VAULT_SKIP_VERIFY.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
AuthMethod = Literal["token", "approle", "jwt"]
_AUTH_METHODS: tuple[str, ...] = get_args(AuthMethod)
_MOUNT_RE = re.compile(r"^[^\s?#]+$")


@dataclass(frozen=True)
class TlsSettings:
    """TLS options, as the Vault CLI takes them from its environment.

    Attributes:
        ca_cert: ``VAULT_CACERT``: a PEM file of CA certificates (wins over ``ca_path``).
        ca_path: ``VAULT_CAPATH``: a directory of PEM files, each one loaded.
        skip_verify: ``VAULT_SKIP_VERIFY``: do not verify the server certificate.
        client_cert: ``VAULT_CLIENT_CERT``/``VAULT_CLIENT_KEY`` for mutual TLS.
    """

    ca_cert: Path | None = None
    ca_path: Path | None = None
    skip_verify: bool = False
    client_cert: tuple[str, str] | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the backend needs before its first request.

    Attributes:
        address: The Vault address, without a trailing slash.
        address_source: Where ``address`` came from, for messages.
        namespace: The Vault Enterprise/OpenBao namespace, or ``None``.
        mount: The KV secrets engine's mount path, without slashes.
        kv_version: 1 or 2 when configured; ``None`` to detect it.
        field: The field of a secret that holds the value.
        auth: ``"token"``, ``"approle"`` or ``"jwt"``.
        approle_mount: Where the AppRole auth method is mounted.
        role_id_file: A file holding the AppRole role id (when VAULT_ROLE_ID is unset).
        secret_id_file: A file holding the AppRole secret id (when VAULT_SECRET_ID is unset).
        jwt_role: The role of a JWT login (required for ``auth = "jwt"``).
        jwt_mount: Where the JWT/OIDC auth method is mounted.
        jwt_file: A file holding the JWT (when VAULT_JWT is unset), e.g. a Kubernetes
            service-account token.
        jwt_audience: The audience to ask GitHub Actions' OIDC provider for; ``None``
            takes GitHub's default (the repository owner's URL).
        tls: TLS options.
        timeout: Seconds one request may take.
        proxy: ``VAULT_PROXY_ADDR`` (or the older ``VAULT_HTTP_PROXY``): the proxy for
            every request; ``None`` leaves ``HTTPS_PROXY``/``NO_PROXY`` in charge.
    """

    address: str
    address_source: str
    namespace: str | None
    mount: str
    kv_version: Literal[1, 2] | None
    field: str
    auth: AuthMethod
    approle_mount: str
    role_id_file: Path | None
    secret_id_file: Path | None
    tls: TlsSettings
    timeout: float
    proxy: str | None = None
    jwt_role: str | None = None
    jwt_mount: str = "jwt"
    jwt_file: Path | None = None
    jwt_audience: str | None = None

    @classmethod
    def resolve(
        cls,
        options: Mapping[str, Any],
        context: VaultContext,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Build the settings from merged options, the context and the environment.

        Raises:
            ConfigError: an option or a Vault environment variable is invalid.
        """
        env = os.environ if environ is None else environ
        address, source = _address(options, context, env)
        namespace = require_str(options, "namespace", _NAME) or env.get("VAULT_NAMESPACE") or None
        mount = _path_option(options, "mount", "secret")
        field = require_str(options, "field", _NAME) or "value"
        auth = _auth(options)
        jwt_role = require_str(options, "jwt_role", _NAME) or None
        if auth == "jwt" and not jwt_role:
            raise ConfigError(
                f'[vault.{_NAME}] auth = "jwt" needs jwt_role, the Vault role to log in as '
                f'(e.g. jwt_role = "envdrift-ci")'
            )
        return cls(
            address=address,
            address_source=source,
            namespace=namespace.strip("/") if namespace else None,
            mount=mount,
            kv_version=_kv_version(options.get("kv_version")),
            field=field,
            auth=auth,
            approle_mount=_path_option(options, "approle_mount", "approle"),
            role_id_file=_file_option(options, "role_id_file", context.base_dir),
            secret_id_file=_file_option(options, "secret_id_file", context.base_dir),
            tls=_tls(env),
            timeout=context.timeout,
            proxy=env.get("VAULT_PROXY_ADDR") or env.get("VAULT_HTTP_PROXY") or None,
            jwt_role=jwt_role,
            jwt_mount=_path_option(options, "jwt_mount", "jwt"),
            jwt_file=_file_option(options, "jwt_file", context.base_dir),
            jwt_audience=require_str(options, "jwt_audience", _NAME) or None,
        )


def _auth(options: Mapping[str, Any]) -> AuthMethod:
    auth = require_str(options, "auth", _NAME) or "token"
    if auth in _AUTH_METHODS:
        return cast("AuthMethod", auth)
    raise ConfigError(f'[vault.{_NAME}] auth must be "token", "approle" or "jwt", not {auth!r}')


def _address(
    options: Mapping[str, Any], context: VaultContext, env: Mapping[str, str]
) -> tuple[str, str]:
    url = require_str(options, "url", _NAME)
    if url:
        source = "--vault-url" if context.overrides.get("url") else f"[vault.{_NAME}] url"
    elif env.get("VAULT_ADDR"):
        url, source = env["VAULT_ADDR"], "VAULT_ADDR"
    else:
        url, source = DEFAULT_ADDRESS, "the Vault CLI's default; set VAULT_ADDR to change it"
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"Vault address {url!r} (from {source}) is not an http:// or https:// URL, "
            "e.g. https://vault.example.com:8200"
        )
    return url.strip().rstrip("/"), source


def _path_option(options: Mapping[str, Any], key: str, default: str) -> str:
    raw = require_str(options, key, _NAME)
    value = (raw if raw is not None else default).strip("/")
    if not value or not _MOUNT_RE.match(value) or ".." in value.split("/"):
        raise ConfigError(
            f"[vault.{_NAME}] {key} = {raw!r} is not a mount path; use e.g. {default!r}"
        )
    return value


def _file_option(options: Mapping[str, Any], key: str, base_dir: Path) -> Path | None:
    raw = require_str(options, key, _NAME)
    return (base_dir / Path(raw).expanduser()) if raw else None


def _kv_version(raw: object) -> Literal[1, 2] | None:
    if raw is None:
        return None
    if raw in (1, "1"):
        return 1
    if raw in (2, "2"):
        return 2
    raise ConfigError(
        f"[vault.{_NAME}] kv_version must be 1 or 2, not {raw!r} "
        "(leave it out to detect the mount's version)"
    )


def _tls(env: Mapping[str, str]) -> TlsSettings:
    skip_raw = env.get("VAULT_SKIP_VERIFY", "")
    if skip_raw and skip_raw not in _TRUE | _FALSE:
        raise ConfigError(
            f"VAULT_SKIP_VERIFY={skip_raw!r} is not a boolean; use true or false "
            "(as the Vault CLI requires)"
        )
    cert, key = env.get("VAULT_CLIENT_CERT"), env.get("VAULT_CLIENT_KEY")
    if bool(cert) != bool(key):
        raise ConfigError("VAULT_CLIENT_CERT and VAULT_CLIENT_KEY must be set together")
    ca_cert, ca_path = env.get("VAULT_CACERT"), env.get("VAULT_CAPATH")
    for var, value, kind in (("VAULT_CACERT", ca_cert, "file"), ("VAULT_CAPATH", ca_path, "dir")):
        if value and not (Path(value).is_file() if kind == "file" else Path(value).is_dir()):
            what = "file" if kind == "file" else "directory"
            raise ConfigError(f"{var}={value!r}: no such {what}")
    return TlsSettings(
        ca_cert=Path(ca_cert) if ca_cert else None,
        ca_path=Path(ca_path) if ca_path else None,
        skip_verify=skip_raw in _TRUE,
        client_cert=(cert, key) if cert and key else None,
    )
