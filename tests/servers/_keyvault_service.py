"""The Key Vault test server's protocol: state, request handling and TLS.

``tests/servers/azure_keyvault.py`` is the face of the server (its contract, the Python
API and the command line); this module is what answers the requests. See that module's
docstring for what is served and why.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import ipaddress
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_TENANT",
    "SECRET_PERMISSIONS",
    "Fault",
    "KeyVaultHTTPServer",
    "ServerConfig",
    "tls_context",
]

DEFAULT_TENANT = "00000000-0000-0000-0000-000000000001"
SECRET_PERMISSIONS = frozenset({"get", "list", "set", "delete", "recover", "purge"})
NAME_RE = re.compile(r"[0-9a-zA-Z-]{1,127}")
RECOVERABLE_DAYS = 90
TOKEN_LIFETIME = 3600

# What Key Vault's RBAC names each secret permission (for ``--rbac`` 403 messages).
_RBAC_ACTIONS = {
    "get": "Microsoft.KeyVault/vaults/secrets/getSecret/action",
    "list": "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    "set": "Microsoft.KeyVault/vaults/secrets/setSecret/action",
    "delete": "Microsoft.KeyVault/vaults/secrets/delete",
    "recover": "Microsoft.KeyVault/vaults/secrets/recover/action",
    "purge": "Microsoft.KeyVault/vaults/deletedSecrets/purge/action",
}


# -- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """How the server behaves; every field has a command-line flag of the same name."""

    tenant: str = DEFAULT_TENANT
    authority: str = "https://login.microsoftonline.com"
    resource: str = "https://vault.azure.net"
    page_size: int = 25
    default_vault: str = "envdrift-test"
    client_secrets: Mapping[str, str] = field(default_factory=dict)
    deny_clients: frozenset[str] = frozenset()
    permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    rbac: bool = False

    def allowed(self, client: str) -> frozenset[str]:
        """The secret permissions ``client`` holds."""
        if client in self.deny_clients:
            return frozenset()
        return self.permissions.get(client, SECRET_PERMISSIONS)


# -- state -----------------------------------------------------------------------------


@dataclass
class _Version:
    version: str
    value: str
    created: int
    updated: int
    enabled: bool = True
    content_type: str | None = None
    tags: dict[str, str] | None = None


@dataclass
class _Secret:
    name: str  # as first created; Key Vault names are case-insensitive
    versions: list[_Version] = field(default_factory=list)
    deleted_date: int | None = None


@dataclass
class _Vault:
    name: str
    live: dict[str, _Secret] = field(default_factory=dict)
    deleted: dict[str, _Secret] = field(default_factory=dict)


@dataclass
class _Token:
    client: str
    tenant: str
    audience: str
    expires: float


@dataclass
class Fault:
    status: int
    remaining: int | None  # None: forever
    retry_after: str | None = None


class _State:
    """Everything the server remembers; one lock, because handlers run on many threads."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.vaults: dict[str, _Vault] = {}
        self.tokens: dict[str, _Token] = {}
        self.faults: dict[str, Fault] = {}
        self.stats: dict[str, int] = {}

    def vault(self, name: str) -> _Vault:
        if name not in self.vaults:
            self.vaults[name] = _Vault(name)
        return self.vaults[name]

    def count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def seed(self, vault: str, name: str, value: str) -> None:
        """Add ``value`` as the newest version of ``name`` in ``vault`` (``--secret``)."""
        if not NAME_RE.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid Key Vault secret name")
        now = int(time.time())
        secret = self.vault(vault).live.setdefault(name.lower(), _Secret(name))
        secret.versions.append(_Version(uuid.uuid4().hex, value, now, now))

    def take_fault(self, secret: str) -> Fault | None:
        fault = self.faults.get(secret.lower())
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self.faults[secret.lower()]
        self.count("faults")
        return fault


class _HttpError(Exception):
    """An error answer: the status, the JSON body and any extra headers."""

    def __init__(
        self, status: int, payload: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status, self.payload, self.headers = status, payload, dict(headers or {})


def _kv_error(
    status: int,
    code: str,
    message: str,
    inner: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> _HttpError:
    """Key Vault's error shape: ``{"error": {"code", "message"[, "innererror"]}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return _HttpError(status, {"error": error}, headers)


def _aad_error(status: int, error: str, code: int, text: str) -> _HttpError:
    """Entra ID's OAuth error shape, with its AADSTS code."""
    trace = uuid.uuid4()
    return _HttpError(
        status,
        {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {trace}",
            "error_codes": [code],
            "trace_id": str(trace),
            "correlation_id": str(uuid.uuid4()),
        },
    )


def _not_found(name: str) -> _HttpError:
    return _kv_error(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {name} was not found in this key vault. If you recently "
        "deleted this secret you may be able to recover it using the correct recovery "
        "command. For help resolving this issue, please see "
        "https://go.microsoft.com/fwlink/?linkid=2125182",
    )


# -- the request handler ---------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    # Without this, headers and body leave in two writes and every keep-alive request
    # stalls ~40 ms on Nagle + delayed ACK.
    disable_nagle_algorithm = True
    server_version = "envdrift-keyvault-test/1"
    server: KeyVaultHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # Every method goes through one dispatcher.
    def do_GET(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self._read_body()
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        try:
            if parts[:1] == ["_envdrift"]:
                self._test_hook(parts[1:], body)
            elif parts[0] not in {"secrets", "deletedsecrets"} and parts[1:2] in (
                ["v2.0"],
                ["oauth2"],
            ):
                self._entra(parts, body)
            else:
                self._keyvault(parts, query, body)
        except _HttpError as exc:
            self._send(exc.status, exc.payload, exc.headers)

    # -- plumbing ----------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, payload: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _base(self) -> str:
        return "https://" + (self.headers.get("Host") or f"localhost:{self.server.port}")

    def _vault_name(self) -> str:
        host = (self.headers.get("Host") or "").lower()
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        host = host.strip("[]")
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host)
            return self.server.config.default_vault
        if "." not in host:
            return self.server.config.default_vault
        return host.split(".", 1)[0]

    def _json(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise _kv_error(400, "BadParameter", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise _kv_error(400, "BadParameter", "The request body must be a JSON object.")
        return data

    # -- test hooks --------------------------------------------------------------------

    def _test_hook(self, parts: list[str], body: bytes) -> None:
        state = self.server.state
        if parts == ["stats"] and self.command == "GET":
            with state.lock:
                self._send(200, dict(state.stats))
        elif parts == ["faults"] and self.command == "POST":
            spec = self._json(body)
            secret, count = str(spec["secret"]).lower(), spec.get("count")
            with state.lock:
                if count == 0:  # clears the fault
                    state.faults.pop(secret, None)
                else:
                    fault = Fault(int(spec.get("status", 503)), count, spec.get("retry_after"))
                    state.faults[secret] = fault
            self._send(204)
        else:
            raise _kv_error(404, "NotFound", f"no test hook {self.command} {self.path}")

    # -- Entra ID ----------------------------------------------------------------------

    def _entra(self, parts: list[str], body: bytes) -> None:
        config, state = self.server.config, self.server.state
        tenant = parts[0]
        if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            self._check_tenant(tenant)
            base = f"{self._base()}/{tenant}"
            self._send(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    "issuer": f"{base}/v2.0",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                    "response_types_supported": ["code", "id_token", "token"],
                    "tenant_region_scope": "WW",
                },
            )
            return
        if parts[1:] != ["oauth2", "v2.0", "token"] or self.command != "POST":
            raise _kv_error(404, "NotFound", f"no Entra endpoint {self.command} {self.path}")
        self._check_tenant(tenant)
        form = dict(urllib.parse.parse_qsl(body.decode()))
        client = form.get("client_id", "")
        if form.get("grant_type") != "client_credentials":
            raise _aad_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type; this server knows only "
                "client_credentials.",
            )
        if config.client_secrets and client not in config.client_secrets:
            raise _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client}' was not found in the directory.",
            )
        if config.client_secrets and form.get("client_secret") != config.client_secrets[client]:
            raise _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client}'.",
            )
        scope = form.get("scope", "").split()[0] if form.get("scope") else ""
        audience = scope.removesuffix("/.default")
        token = _mint_token(client, tenant, audience)
        with state.lock:
            state.tokens[token] = _Token(client, tenant, audience, time.time() + TOKEN_LIFETIME)
            state.count("tokens")
        self._send(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME - 1,
                "ext_expires_in": TOKEN_LIFETIME - 1,
                "access_token": token,
            },
        )

    def _check_tenant(self, tenant: str) -> None:
        if tenant not in {self.server.config.tenant, "organizations", "common"}:
            raise _aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")

    # -- Key Vault ---------------------------------------------------------------------

    def _challenge(self, message: str) -> _HttpError:
        config = self.server.config
        header = (
            f'Bearer authorization="{config.authority.rstrip("/")}/{config.tenant}", '
            f'resource="{config.resource}"'
        )
        return _kv_error(401, "Unauthorized", message, headers={"WWW-Authenticate": header})

    def _authenticate(self) -> str:
        """Return the calling client's id, or raise the 401 challenge."""
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise self._challenge("AKV10000: Request is missing a Bearer or PoP token.")
        with self.server.state.lock:
            token = self.server.state.tokens.get(auth.removeprefix("Bearer ").strip())
        config = self.server.config
        if token is None or token.expires < time.time():
            raise self._challenge("AKV10032: Invalid issuer or token. The token is not valid.")
        if token.tenant != config.tenant:
            raise self._challenge(
                f"AKV10032: Invalid issuer. Expected one of "
                f"https://sts.windows.net/{config.tenant}/, found "
                f"https://sts.windows.net/{token.tenant}/."
            )
        if token.audience.rstrip("/") != config.resource.rstrip("/"):
            raise self._challenge(
                f"AKV10022: Invalid audience. Expected {config.resource}, found: {token.audience}."
            )
        return token.client

    def _require(self, client: str, permission: str, vault: str) -> None:
        config = self.server.config
        if permission in config.allowed(client):
            return
        oid = uuid.uuid5(uuid.NAMESPACE_OID, client)
        if config.rbac:
            raise _kv_error(
                403,
                "Forbidden",
                "Caller is not authorized to perform action on resource.\r\nIf role "
                "assignments, deny assignments or role definitions were changed recently, "
                "please observe propagation time.\r\n"
                f"Caller: appid={client};oid={oid};iss=https://sts.windows.net/{config.tenant}/"
                f"\r\nAction: '{_RBAC_ACTIONS[permission]}'\r\nResource: '/subscriptions/"
                f"00000000-0000-0000-0000-000000000000/resourcegroups/test/providers/"
                f"microsoft.keyvault/vaults/{vault}'\r\nAssignment: (not found)\r\n",
                "ForbiddenByRbac",
            )
        raise _kv_error(
            403,
            "Forbidden",
            f"The user, group or application 'appid={client};oid={oid};"
            f"iss=https://sts.windows.net/{config.tenant}/' does not have secrets {permission} "
            f"permission on key vault '{vault};location=local'. For help resolving this "
            "issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            "AccessDenied",
        )

    def _keyvault(self, parts: list[str], query: dict[str, str], body: bytes) -> None:
        state = self.server.state
        with state.lock:
            state.count("requests")
        client = self._authenticate()
        vault_name = self._vault_name()
        if len(parts) >= 2 and parts[0] in {"secrets", "deletedsecrets"} and parts[1]:
            with state.lock:
                fault = state.take_fault(parts[1])
            if fault is not None:
                raise _kv_error(
                    fault.status,
                    "Throttled" if fault.status == 429 else "ServiceUnavailable",
                    "Injected fault.",
                    headers={"Retry-After": fault.retry_after} if fault.retry_after else None,
                )
        route = (self.command, parts[0] if parts else "", len(parts))
        handlers: dict[tuple[str, str, int], Callable[[_Vault, str, list[str]], Any]] = {
            ("GET", "secrets", 1): lambda v, c, p: self._list(v, c, None, query),
            ("GET", "secrets", 2): lambda v, c, p: self._get(v, c, p[1], ""),
            ("GET", "secrets", 3): lambda v, c, p: (
                self._list(v, c, p[1], query) if p[2] == "versions" else self._get(v, c, p[1], p[2])
            ),
            ("PUT", "secrets", 2): lambda v, c, p: self._set(v, c, p[1], self._json(body)),
            ("PATCH", "secrets", 3): lambda v, c, p: self._update(v, c, p[1], p[2], body),
            ("PATCH", "secrets", 2): lambda v, c, p: self._update(v, c, p[1], "", body),
            ("DELETE", "secrets", 2): lambda v, c, p: self._delete(v, c, p[1]),
            ("GET", "deletedsecrets", 1): lambda v, c, p: self._list_deleted(v, c, query),
            ("GET", "deletedsecrets", 2): lambda v, c, p: self._get_deleted(v, c, p[1]),
            ("DELETE", "deletedsecrets", 2): lambda v, c, p: self._purge(v, c, p[1]),
            ("POST", "deletedsecrets", 3): lambda v, c, p: self._recover(v, c, p[1], p[2]),
        }
        handler = handlers.get(route)
        if handler is None:
            raise _kv_error(
                400,
                "BadParameter",
                f"Unsupported operation {self.command} {urllib.parse.urlsplit(self.path).path}",
            )
        with state.lock:
            result = handler(state.vault(vault_name), client, parts)
        if result is None:
            self._send(204)
        else:
            self._send(200, result)

    # Each operation runs under the state lock and returns the JSON answer (None: 204).

    def _secret(self, vault: _Vault, name: str) -> _Secret:
        _check_name(name)
        secret = vault.live.get(name.lower())
        if secret is None:
            raise _not_found(name)
        return secret

    def _get(self, vault: _Vault, client: str, name: str, version: str) -> dict[str, Any]:
        self._require(client, "get", vault.name)
        secret = self._secret(vault, name)
        chosen = _pick(secret, version)
        if not chosen.enabled:
            raise _kv_error(
                403,
                "Forbidden",
                "Operation get is not allowed on a disabled secret.",
                "SecretDisabled",
            )
        return self._bundle(secret, chosen, with_value=True)

    def _set(self, vault: _Vault, client: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
        self._require(client, "set", vault.name)
        _check_name(name)
        if name.lower() in vault.deleted:
            raise _kv_error(
                409,
                "Conflict",
                f"Secret {name} is currently in a deleted but recoverable state, and its name "
                "cannot be reused; in this state, the secret can only be recovered or purged.",
                "ObjectIsDeletedButRecoverable",
            )
        value = data.get("value")
        if not isinstance(value, str):
            raise _kv_error(
                400, "BadParameter", "Property 'value' is required and must be a string."
            )
        attributes = data.get("attributes") or {}
        now = int(time.time())
        secret = vault.live.setdefault(name.lower(), _Secret(name))
        version = _Version(
            version=uuid.uuid4().hex,
            value=value,
            created=now,
            updated=now,
            enabled=bool(attributes.get("enabled", True)),
            content_type=data.get("contentType"),
            tags=data.get("tags"),
        )
        secret.versions.append(version)
        return self._bundle(secret, version, with_value=True)

    def _update(
        self, vault: _Vault, client: str, name: str, version: str, body: bytes
    ) -> dict[str, Any]:
        self._require(client, "set", vault.name)
        data = self._json(body)
        secret = self._secret(vault, name)
        chosen = _pick(secret, version)
        attributes = data.get("attributes") or {}
        if "enabled" in attributes and attributes["enabled"] is not None:
            chosen.enabled = bool(attributes["enabled"])
        if data.get("contentType") is not None:
            chosen.content_type = data["contentType"]
        if data.get("tags") is not None:
            chosen.tags = data["tags"]
        chosen.updated = int(time.time())
        return self._bundle(secret, chosen, with_value=False)

    def _delete(self, vault: _Vault, client: str, name: str) -> dict[str, Any]:
        self._require(client, "delete", vault.name)
        secret = self._secret(vault, name)
        del vault.live[name.lower()]
        secret.deleted_date = int(time.time())
        vault.deleted[name.lower()] = secret
        return self._deleted_bundle(secret)

    def _get_deleted(self, vault: _Vault, client: str, name: str) -> dict[str, Any]:
        self._require(client, "get", vault.name)
        _check_name(name)
        secret = vault.deleted.get(name.lower())
        if secret is None:
            raise _kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        return self._deleted_bundle(secret)

    def _purge(self, vault: _Vault, client: str, name: str) -> None:
        self._require(client, "purge", vault.name)
        _check_name(name)
        if vault.deleted.pop(name.lower(), None) is None:
            raise _kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")

    def _recover(self, vault: _Vault, client: str, name: str, action: str) -> dict[str, Any]:
        if action != "recover":
            raise _kv_error(400, "BadParameter", f"Unsupported operation POST {self.path}")
        self._require(client, "recover", vault.name)
        _check_name(name)
        secret = vault.deleted.pop(name.lower(), None)
        if secret is None:
            raise _kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        secret.deleted_date = None
        vault.live[name.lower()] = secret
        return self._bundle(secret, secret.versions[-1], with_value=False)

    def _list(
        self, vault: _Vault, client: str, name: str | None, query: dict[str, str]
    ) -> dict[str, Any]:
        self._require(client, "list", vault.name)
        if name is None:
            items = [
                self._item(s, s.versions[-1], versioned=False)
                for _, s in sorted(vault.live.items())
            ]
            path = "secrets"
        else:
            secret = self._secret(vault, name)
            items = [self._item(secret, v, versioned=True) for v in secret.versions]
            path = f"secrets/{urllib.parse.quote(secret.name)}/versions"
        return self._page(items, path, query)

    def _list_deleted(self, vault: _Vault, client: str, query: dict[str, str]) -> dict[str, Any]:
        self._require(client, "list", vault.name)
        items = [
            {**self._item(s, s.versions[-1], versioned=False), **self._deleted_fields(s)}
            for _, s in sorted(vault.deleted.items())
        ]
        return self._page(items, "deletedsecrets", query)

    def _page(
        self, items: list[dict[str, Any]], path: str, query: dict[str, str]
    ) -> dict[str, Any]:
        size = self.server.config.page_size
        with contextlib.suppress(ValueError):
            size = max(1, min(size, int(query.get("maxresults", size))))
        start = int(query.get("$skiptoken", "0") or 0)
        page: dict[str, Any] = {"value": items[start : start + size], "nextLink": None}
        if start + size < len(items):
            next_query = urllib.parse.urlencode(
                {
                    "api-version": query.get("api-version", ""),
                    "$skiptoken": start + size,
                    "maxresults": size,
                }
            )
            page["nextLink"] = f"{self._base()}/{path}?{next_query}"
        return page

    # -- JSON shapes -------------------------------------------------------------------

    def _attributes(self, version: _Version) -> dict[str, Any]:
        return {
            "enabled": version.enabled,
            "created": version.created,
            "updated": version.updated,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": RECOVERABLE_DAYS,
        }

    def _item(self, secret: _Secret, version: _Version, *, versioned: bool) -> dict[str, Any]:
        secret_id = f"{self._base()}/secrets/{secret.name}"
        item: dict[str, Any] = {
            "id": f"{secret_id}/{version.version}" if versioned else secret_id,
            "attributes": self._attributes(version),
        }
        if version.content_type is not None:
            item["contentType"] = version.content_type
        if version.tags is not None:
            item["tags"] = version.tags
        return item

    def _bundle(self, secret: _Secret, version: _Version, *, with_value: bool) -> dict[str, Any]:
        bundle = self._item(secret, version, versioned=True)
        if with_value:
            bundle["value"] = version.value
        return bundle

    def _deleted_fields(self, secret: _Secret) -> dict[str, Any]:
        deleted = secret.deleted_date or int(time.time())
        return {
            "recoveryId": f"{self._base()}/deletedsecrets/{secret.name}",
            "deletedDate": deleted,
            "scheduledPurgeDate": deleted + RECOVERABLE_DAYS * 86400,
        }

    def _deleted_bundle(self, secret: _Secret) -> dict[str, Any]:
        bundle = self._bundle(secret, secret.versions[-1], with_value=False)
        return {**bundle, **self._deleted_fields(secret)}


def _check_name(name: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise _kv_error(400, "BadParameter", f"The request URI contains an invalid name: {name}")


def _pick(secret: _Secret, version: str) -> _Version:
    if not version:
        return secret.versions[-1]
    for candidate in secret.versions:
        if candidate.version == version:
            return candidate
    raise _kv_error(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {secret.name}/{version} was not found in this key vault.",
    )


def _mint_token(client: str, tenant: str, audience: str) -> str:
    """An unsigned, JWT-shaped token; the server recognises it by lookup, not signature."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant}/",
        "tid": tenant,
        "appid": client,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
        "jti": secrets.token_hex(8),
    }
    return f"{b64({'typ': 'JWT', 'alg': 'none'})}.{b64(claims)}.{secrets.token_urlsafe(16)}"


# -- the server ------------------------------------------------------------------------


class KeyVaultHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self, port: int, tls: ssl.SSLContext, config: ServerConfig, *, verbose: bool = False
    ) -> None:
        self.tls = tls
        self.config = config
        self.state = _State(config)
        self.verbose = verbose
        super().__init__(("127.0.0.1", port), _Handler)
        self.port = int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        # The TLS handshake runs on the handler's thread (first read), not in the accept
        # loop, so one slow client cannot stall the others.
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that drop a connection mid-handshake are normal (probes, retries).
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError)):
            return
        super().handle_error(request, client_address)


def tls_context(cert_dir: Path, sans: Iterable[str]) -> ssl.SSLContext:
    """Make the CA, write ``ca.pem`` (atomically), and return a context minting per SNI."""
    import trustme

    ca = trustme.CA(organization_name="envdrift Key Vault test CA")
    cert_dir.mkdir(parents=True, exist_ok=True)
    tmp = cert_dir / f".ca.pem.{os.getpid()}"
    ca.cert_pem.write_to_path(str(tmp))
    os.replace(tmp, cert_dir / "ca.pem")

    def context_for(*names: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        return context

    default = context_for("localhost", "127.0.0.1", "::1", *sans)
    minted: dict[str, ssl.SSLContext] = {}
    lock = threading.Lock()

    def on_sni(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: ssl.SSLContext) -> None:
        if not name or name in {"localhost", *sans}:
            return
        with lock:
            if name not in minted:
                minted[name] = context_for(name.lower())
            sock.context = minted[name]

    default.sni_callback = on_sni
    return default
