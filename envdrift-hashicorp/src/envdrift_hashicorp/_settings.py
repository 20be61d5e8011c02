"""Where the Vault is, how to talk to it and whom to log in as: options and environment.

Settings resolve when the backend is built, so a wrong option is a ``ConfigError`` before
any request; the credential is looked up when the backend first connects. Neither talks
to the network or imports hvac. Environment variables are the ones the Vault CLI reads,
with the meaning the Vault CLI gives them.

The credential, in the order the Vault CLI uses:

1. ``VAULT_TOKEN``;
2. the token file ``vault login`` writes, ``~/.vault-token``;
3. AppRole, when ``[vault.hashicorp] auth = "approle"``: role and secret ids from
   ``VAULT_ROLE_ID``/``VAULT_SECRET_ID``, or from ``role_id_file``/``secret_id_file``.

The backend does the AppRole login. A credential's ``repr`` never shows a token or an id.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from envdrift import ConfigError, PermissionDeniedError, Secret, require_str

if TYPE_CHECKING:
    from collections.abc import Mapping

    from envdrift import VaultContext

__all__ = [
    "DEFAULT_ADDRESS",
    "NO_CREDENTIAL_HELP",
    "OPTION_KEYS",
    "Credential",
    "Settings",
    "TlsSettings",
    "find_credential",
]

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
    }
)

_NAME = "hashicorp"
# strconv.ParseBool, which the Vault CLI uses for VAULT_SKIP_VERIFY.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
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
        auth: ``"token"`` or ``"approle"``.
        approle_mount: Where the AppRole auth method is mounted.
        role_id_file: A file holding the AppRole role id (when VAULT_ROLE_ID is unset).
        secret_id_file: A file holding the AppRole secret id (when VAULT_SECRET_ID is unset).
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
    auth: Literal["token", "approle"]
    approle_mount: str
    role_id_file: Path | None
    secret_id_file: Path | None
    tls: TlsSettings
    timeout: float
    proxy: str | None = None

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
        auth = require_str(options, "auth", _NAME) or "token"
        if auth not in ("token", "approle"):
            raise ConfigError(f'[vault.{_NAME}] auth must be "token" or "approle", not {auth!r}')
        return cls(
            address=address,
            address_source=source,
            namespace=namespace.strip("/") if namespace else None,
            mount=mount,
            kv_version=_kv_version(options.get("kv_version")),
            field=field,
            auth="approle" if auth == "approle" else "token",
            approle_mount=_path_option(options, "approle_mount", "approle"),
            role_id_file=_file_option(options, "role_id_file", context.base_dir),
            secret_id_file=_file_option(options, "secret_id_file", context.base_dir),
            tls=_tls(env),
            timeout=context.timeout,
            proxy=env.get("VAULT_PROXY_ADDR") or env.get("VAULT_HTTP_PROXY") or None,
        )


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


# -- the credential ------------------------------------------------------------------

NO_CREDENTIAL_HELP = (
    "set VAULT_TOKEN, or run `vault login` (it writes ~/.vault-token), or use AppRole: "
    '[vault.hashicorp] auth = "approle" with VAULT_ROLE_ID and VAULT_SECRET_ID '
    "(or role_id_file and secret_id_file)"
)


@dataclass(frozen=True)
class Credential:
    """What to authenticate with.

    Attributes:
        method: How it was found, for ``--debug`` output
            (``"the token in VAULT_TOKEN"``, ``"AppRole login at auth/approle …"``).
        token_name: How messages call the token this gives (``"the AppRole token"``).
        token: A ready token, or ``None`` for an AppRole login.
        role_id: The AppRole role id (AppRole only).
        secret_id: The AppRole secret id, when the role requires one.
    """

    method: str
    token_name: str
    token: Secret | None = None
    role_id: Secret | None = None
    secret_id: Secret | None = None


def find_credential(settings: Settings, environ: Mapping[str, str] | None = None) -> Credential:
    """Return the first credential available, in the documented order.

    Raises:
        PermissionDeniedError: there is none; the message names the three ways to add one.
        ConfigError: a configured id file cannot be read.
    """
    env = os.environ if environ is None else environ
    token = env.get("VAULT_TOKEN", "").strip()
    if token:
        where = "the token in VAULT_TOKEN"
        return Credential(where, where, token=Secret(token))
    token_file = _home(env) / ".vault-token"
    token = _read(token_file, "the Vault token file") or ""
    if token:
        return Credential(
            f"the token in ~/.vault-token ({token_file})",
            "the token in ~/.vault-token",
            token=Secret(token),
        )
    if settings.auth == "approle":
        role_id, role_from = _approle_id(env, "VAULT_ROLE_ID", settings.role_id_file)
        secret_id, _ = _approle_id(env, "VAULT_SECRET_ID", settings.secret_id_file)
        if role_id:
            return Credential(
                f"AppRole login at auth/{settings.approle_mount} (role id from {role_from})",
                f"the token from the AppRole login at auth/{settings.approle_mount}",
                role_id=Secret(role_id),
                secret_id=Secret(secret_id) if secret_id else None,
            )
        raise PermissionDeniedError(
            'no Vault credential found: auth = "approle" but neither VAULT_ROLE_ID nor '
            "[vault.hashicorp] role_id_file gives a role id, and there is no token; "
            + NO_CREDENTIAL_HELP
        )
    raise PermissionDeniedError(f"no Vault token found: {NO_CREDENTIAL_HELP}")


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _approle_id(env: Mapping[str, str], var: str, path: Path | None) -> tuple[str, str]:
    value = env.get(var, "").strip()
    if value:
        return value, var
    if path is not None:
        content = _read(path, f"the file for {var.lower().removeprefix('vault_')}")
        if content is None:
            raise ConfigError(f"{path}: no such file (set in [vault.hashicorp])")
        return content, str(path)
    return "", ""


def _read(path: Path, what: str) -> str | None:
    """Return the stripped content of ``path``, or ``None`` when it does not exist."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
        raise ConfigError(f"cannot read {what} {path}: {reason}") from None
