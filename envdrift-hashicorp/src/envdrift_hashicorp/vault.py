"""The ``hashicorp`` vault: HashiCorp Vault (or OpenBao) KV secrets engines, through hvac.

Config (every key optional)::

    [vault]
    provider = "hashicorp"

    [vault.hashicorp]
    url = "https://vault.example.com:8200"  # --vault-url wins; VAULT_ADDR when absent
    mount = "secret"                        # the KV engine's mount path
    kv_version = 2                          # detected from the mount when left out
    field = "value"                         # what `vault kv put secret/x value=…` writes
    namespace = "team-a"                    # else VAULT_NAMESPACE
    auth = "approle"                        # or "jwt"; after VAULT_TOKEN and ~/.vault-token
    role_id_file = "ci/role-id"             # when VAULT_ROLE_ID is unset
    secret_id_file = "ci/secret-id"         # when VAULT_SECRET_ID is unset
    jwt_role = "envdrift-ci"                # auth = "jwt": required
    jwt_mount = "jwt"                       # where the JWT/OIDC auth method is enabled
    jwt_file = "/var/run/secrets/tokens/vault"  # when VAULT_JWT is unset
    jwt_audience = "https://vault.example.com"  # what to ask GitHub Actions' OIDC for

A mapping's ``secret_name`` is the path under the mount and may be nested
(``apps/api/prod-key`` is ``secret/data/apps/api/prod-key`` on KV v2). TLS follows the
Vault CLI's ``VAULT_CACERT``, ``VAULT_CAPATH``, ``VAULT_SKIP_VERIFY`` and
``VAULT_CLIENT_CERT``/``VAULT_CLIENT_KEY``.

Retries are envdrift's (``Vault.retrying``, the same for every backend; ``--retries``,
not ``VAULT_MAX_RETRIES``): each request is one attempt with envdrift's request timeout.
Reads are retried on 412/429/5xx, timeouts and connection failures. A write is retried
only when Vault cannot have applied it (429, or no connection made); after a 5xx or a
timeout it is reported, not repeated.
"""

from __future__ import annotations

import builtins  # `list` is a method name here
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from envdrift import (
    ConfigError,
    EnvdriftError,
    FormatError,
    NotFoundError,
    PermissionDeniedError,
    Secret,
    UnavailableError,
    Vault,
    VaultContext,
    VaultError,
)

from envdrift_hashicorp.credentials import NO_CREDENTIAL_HELP, find_credential
from envdrift_hashicorp.settings import OPTION_KEYS, Settings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from envdrift_hashicorp.credentials import Credential, JwtSource

__all__ = ["HashicorpVault"]

_log = logging.getLogger("envdrift.hashicorp")

#: A secret written as ``vault kv put secret/x DOTENV_PRIVATE_KEY_PRODUCTION=…``.
_DOTENV_FIELD = re.compile(r"^DOTENV_PRIVATE_KEY(?:_[A-Za-z0-9_]+)?$")
_BAD_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\"()]+)")
_CAS_MISMATCH = "check-and-set parameter did not match"
#: Statuses hvac has no exception of its own for and a retry may cure (412: a
#: performance standby is behind; 504: a gateway timed out).
_RETRY_STATUSES = frozenset({412, 504})


@dataclass(frozen=True)
class _Call:
    """One request, described for error messages.

    Attributes:
        action: What envdrift tried, e.g. ``read secret 'apps/api'``.
        api_path: The Vault API path (what a policy names), e.g. ``secret/data/apps/api``.
        capabilities: What a policy must grant on ``api_path``.
        name: The secret name, when there is one.
        folder: The folder to suggest to ``vault kv list``.
    """

    action: str
    api_path: str
    capabilities: tuple[str, ...]
    name: str | None = None
    folder: str = ""


class HashicorpVault(Vault):
    """Secrets in a HashiCorp Vault KV secrets engine (version 1 or 2)."""

    name = "hashicorp"
    description = "HashiCorp Vault / OpenBao KV secrets engine (v1 or v2), through hvac"
    cli_options = {"vault_url": "url"}
    option_keys = OPTION_KEYS

    def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
        """Resolve address, mount, field, auth and TLS settings (no network, no hvac).

        Raises:
            ConfigError: an option or a Vault environment variable is invalid.
        """
        super().__init__(options, context)
        self.settings = Settings.resolve(self.options, context)
        # Re-entrant: translating an error may need the client (to look up the token).
        self._lock = threading.RLock()
        self._client: Any = None  # hvac.Client, built on first use
        self._token_name = "the token"
        self._kv: Literal[1, 2] | None = self.settings.kv_version
        self._kv_failure: tuple[float, UnavailableError] | None = None
        self._kv_assumed = False
        self._token_valid: bool | None = None

    def describe(self) -> str:
        where = f"{self.settings.address}, mount '{self.settings.mount}'"
        if self.settings.namespace:
            where += f", namespace '{self.settings.namespace}'"
        return f"vault 'hashicorp' ({where})"

    # -- the Vault interface -------------------------------------------------------

    def fetch(self, name: str) -> Secret:
        """Return the secret's ``field`` (``value`` unless configured).

        A secret whose only field is ``DOTENV_PRIVATE_KEY_<ENV>`` (as in
        ``vault kv put secret/x DOTENV_PRIVATE_KEY_PRODUCTION=…``) is returned as the
        line ``DOTENV_PRIVATE_KEY_<ENV>=…``, which sync checks against the mapping's
        environment.
        """
        return self.retrying(lambda: self._fetch(name), what=f"read secret {name!r}")

    def _fetch(self, name: str) -> Secret:
        path = self._secret_path(name)
        client, version = self._ready()
        call = _Call(
            f"read secret {name!r}", self._api_path(version, path), ("read",), name, _folder(path)
        )
        data = self._read(client, version, path, call)
        if data is None:
            raise self._not_found(call)
        return Secret(self._value(name, call, data))

    def store(self, name: str, value: Secret) -> None:
        """Write ``value`` as a new version, keeping the secret's other fields.

        On KV v2 the write is a check-and-set against the version just read, so a
        concurrent writer is never silently overwritten: the store fails instead.
        KV v1 has no versions and no check-and-set; there the last writer wins.
        """
        self.retrying(lambda: self._store(name, value), what=f"write secret {name!r}")

    def _store(self, name: str, value: Secret) -> None:
        path = self._secret_path(name)
        client, version = self._ready()
        api_path = self._api_path(version, path)
        read = _Call(f"read secret {name!r} before writing it", api_path, ("read",), name)
        current, current_version = self._read_for_update(client, version, path, read)
        data = dict(current or {})
        field = self._field_for(data)
        text = value.reveal()
        if field != self.settings.field:
            # fetch() returns a lone DOTENV_PRIVATE_KEY_<ENV> field as the line FIELD=key;
            # take such a line apart again, so that storing what was fetched (rotate's
            # rollback) leaves the field as it was instead of nesting the line in it.
            text = text.removeprefix(f"{field}=")
        data[field] = text
        write = _Call(f"write secret {name!r}", api_path, ("create", "update"), name)
        kv = client.secrets.kv
        try:
            if version == 2:
                kv.v2.create_or_update_secret(
                    path=path, secret=data, cas=current_version, mount_point=self.settings.mount
                )
            else:
                kv.v1.create_or_update_secret(
                    path=path, secret=data, method="POST", mount_point=self.settings.mount
                )
        except _sdk_errors() as exc:
            if _CAS_MISMATCH in _errors_text(exc):
                raise VaultError(
                    f"secret {name!r} in {self.describe()} changed while envdrift was writing "
                    f"it (check-and-set on {api_path} expected version {current_version}); "
                    "nothing was overwritten. Run the command again to write on top of the "
                    "new version."
                ) from None
            error = self._translate(exc, write)
            if isinstance(error, UnavailableError) and not _surely_unapplied(exc):
                # Vault may have stored it before failing; a repeat would then fail
                # check-and-set (KV v2) or write twice (KV v1): report, do not repeat.
                error.transient = False
            raise error from exc
        _log.debug("stored %s (KV v%d)", api_path, version)

    def list(self, prefix: str = "") -> list[str]:
        """Return the secret paths under the mount that start with ``prefix``, using LIST.

        Folders whose path could lead to a match are listed recursively.
        """
        return self.retrying(lambda: self._list(prefix), what="list secrets")

    def _list(self, prefix: str) -> builtins.list[str]:
        if prefix.startswith("/") or _BAD_NAME_CHARS.search(prefix):
            raise ConfigError(f"prefix {prefix!r} is not a Vault path prefix")
        client, version = self._ready()
        names: builtins.list[str] = []
        pending = [prefix[: prefix.rfind("/") + 1]]
        while pending:
            folder = pending.pop()
            for key in self._list_folder(client, version, folder):
                full = folder + key
                if key.endswith("/"):
                    if full.startswith(prefix) or prefix.startswith(full):
                        pending.append(full)
                elif full.startswith(prefix):
                    names.append(full)
        return sorted(names)

    def check(self) -> None:
        """Check hvac, the address, the credential and the mount, without reading a secret."""
        self.retrying(self._check, what="look up its own token (health check)")

    def _check(self) -> None:
        asked = time.monotonic()
        client = self._hvac()
        call = _Call("look up its own token", "auth/token/lookup-self", ("read",))
        try:
            client.auth.token.lookup_self()
        except _sdk_errors() as exc:
            raise self._translate(exc, call) from exc
        self._kv_version(client, asked)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.adapter.close()

    # -- connecting ------------------------------------------------------------------

    def _ready(self) -> tuple[Any, Literal[1, 2]]:
        """The hvac client and the mount's KV version, for one request."""
        asked = time.monotonic()  # before any wait for the client: see _kv_version
        client = self._hvac()
        return client, self._kv_version(client, asked)

    def _hvac(self) -> Any:
        """Return the hvac client, logging in on first use (once, whatever the threads)."""
        client = self._client
        if client is not None:
            # No lock once it exists: a thread must not queue here behind another that
            # holds the lock for a slow request (the KV-version lookup of a hung Vault).
            return client
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> Any:
        try:
            import hvac
        except ImportError as exc:
            raise ConfigError(
                f"vault 'hashicorp' needs hvac, which cannot be imported ({exc}). "
                "Install it with: pip install 'envdrift[hashicorp]'"
            ) from None
        from envdrift_hashicorp._http import build_session, verify_argument

        settings = self.settings
        credential = find_credential(settings)
        session = build_session(settings.address, settings.tls, proxy=settings.proxy)
        verify = verify_argument(settings.tls)
        # hvac prefers the session's own `verify` to its argument: set both.
        session.verify = verify
        client = hvac.Client(
            url=settings.address,
            token=credential.token.reveal() if credential.token else "",
            session=session,
            verify=verify,
            cert=settings.tls.client_cert,
            timeout=settings.timeout,
            namespace=settings.namespace,
        )
        _log.debug(
            "Vault address %s (from %s)%s; authenticating with %s",
            settings.address,
            settings.address_source,
            f", namespace {settings.namespace!r}" if settings.namespace else "",
            credential.method,
        )
        if verify is False:
            _log.debug("TLS certificate verification is off (VAULT_SKIP_VERIFY)")
        self._token_name = credential.token_name
        try:
            if credential.role_id is not None:
                self._approle_login(client, credential)
            elif credential.jwt is not None:
                self._jwt_login(client, credential.jwt)
        except BaseException:
            session.close()
            raise
        return client

    def _approle_login(self, client: Any, credential: Credential) -> None:
        assert credential.role_id is not None
        mount = self.settings.approle_mount
        login = _Call("log in with AppRole", f"auth/{mount}/login", ("create", "update"))
        try:
            client.auth.approle.login(
                role_id=credential.role_id.reveal(),
                secret_id=credential.secret_id.reveal() if credential.secret_id else None,
                mount_point=mount,
            )
        except _sdk_errors() as exc:
            raise self._login_failed(
                exc,
                login,
                "AppRole",
                "AppRole login",
                "Check VAULT_ROLE_ID and VAULT_SECRET_ID (or role_id_file/secret_id_file) "
                "and [vault.hashicorp] approle_mount",
            ) from None
        _log.debug("AppRole login succeeded")

    def _jwt_login(self, client: Any, source: JwtSource) -> None:
        settings = self.settings
        mount, role = settings.jwt_mount, settings.jwt_role
        what = f"JWT login as role '{role}' at auth/{mount}"
        login = _Call(f"log in with a JWT as role '{role}'", f"auth/{mount}/login", ("update",))
        jwt = source.get(settings.timeout)
        try:
            client.auth.jwt.jwt_login(role=role, jwt=jwt.reveal(), path=mount)
        except _sdk_errors() as exc:
            check = f"Check the JWT from {source.where}, [vault.hashicorp] jwt_role and jwt_mount"
            if "audience" in _errors_text(exc):
                check = (
                    f"The role's bound_audiences must list the audience of the JWT from "
                    f"{source.where} (on GitHub Actions, set [vault.hashicorp] jwt_audience "
                    "to one of them)"
                )
            raise self._login_failed(exc, login, "JWT", what, check, conceal=jwt) from None
        _log.debug("JWT login succeeded")

    def _login_failed(
        self,
        exc: BaseException,
        call: _Call,
        method: str,
        what: str,
        check: str,
        conceal: Secret | None = None,
    ) -> EnvdriftError:
        """A refused login, in one line: what was tried, Vault's reason, what to check."""
        import hvac.exceptions as hx

        if not isinstance(exc, hx.InvalidRequest | hx.Forbidden | hx.Unauthorized | hx.InvalidPath):
            return self._translate(exc, call)
        mount = call.api_path.removesuffix("/login")
        detail = _errors_text(exc) or type(exc).__name__
        if isinstance(exc, hx.InvalidPath):
            detail = f"no {method} auth method is mounted at {mount}"
        elif isinstance(exc, hx.Forbidden) and detail.endswith("permission denied"):
            # Vault's answer to a login at a path where no auth method is enabled.
            detail = f"permission denied: is a {method} auth method enabled at {mount}?"
        if conceal is not None:  # Vault does not echo the JWT; make sure of it
            detail = detail.replace(conceal.reveal(), "***")
        return PermissionDeniedError(
            f"{self.describe()}: {what} failed ({_short(detail)}). {check}"
        )

    def _kv_version(self, client: Any, asked: float) -> Literal[1, 2]:
        """Return the mount's KV version: configured, or asked once the way the Vault CLI does.

        ``asked`` is when this request began (before any wait for the client or the lock):
        a lookup that failed since then is this request's answer too.
        """
        if self._kv is not None:
            return self._kv
        with self._lock:
            if self._kv is None:
                failed = self._kv_failure
                if failed is not None and failed[0] >= asked:
                    # It failed while this thread waited for the lock: share that answer
                    # rather than queue one more request behind a failing (or hung) Vault.
                    raise failed[1]
                try:
                    self._kv = self._detect_kv_version(client)
                except UnavailableError as exc:
                    self._kv_failure = (time.monotonic(), exc)
                    raise
            return self._kv

    def _detect_kv_version(self, client: Any) -> Literal[1, 2]:
        import hvac.exceptions as hx

        mount = self.settings.mount
        call = _Call(
            f"detect the KV version of mount '{mount}'", f"sys/internal/ui/mounts/{mount}", ()
        )
        try:
            answer = client.adapter.get(f"/v1/sys/internal/ui/mounts/{mount}")
        except (hx.Forbidden, hx.InvalidPath, hx.InvalidRequest):
            # The token may read secrets under the mount without being allowed to see
            # the mount itself; the real request will explain any real problem.
            _log.debug("cannot see mount %r; assuming KV version 2", mount)
            self._kv_assumed = True
            return 2
        except _sdk_errors() as exc:
            raise self._translate(exc, call) from exc
        info = (answer.get("data") or answer) if isinstance(answer, dict) else {}
        kind = info.get("type")
        if kind not in ("kv", "generic"):
            raise ConfigError(
                f"{self.describe()}: the mount '{mount}/' is a {kind!r} secrets engine, not "
                "KV; set [vault.hashicorp] mount to a KV mount (see `vault secrets list`)"
            )
        found = str(info.get("path") or f"{mount}/").strip("/")
        if found != mount:
            # Vault answers for the mount that contains the path: `mount` is a folder in it.
            raise ConfigError(
                f"{self.describe()}: '{mount}/' is not a mount but a folder inside the "
                f"mount '{found}/'; set [vault.hashicorp] mount = \"{found}\" and start "
                f"secret names with '{mount.removeprefix(found + '/')}/'"
            )
        version: Literal[1, 2] = 2 if str((info.get("options") or {}).get("version")) == "2" else 1
        _log.debug("mount %r is KV version %d", mount, version)
        return version

    # -- requests --------------------------------------------------------------------

    def _read(self, client: Any, version: int, path: str, call: _Call) -> dict[str, Any] | None:
        """Return the secret's fields, or ``None`` when it does not exist (or is deleted)."""
        data, _ = self._read_for_update(client, version, path, call)
        return data

    def _read_for_update(
        self, client: Any, version: int, path: str, call: _Call
    ) -> tuple[dict[str, Any] | None, int]:
        """Return ``(fields or None, current version)``; version 0 means "no secret yet"."""
        import hvac.exceptions as hx

        kv = client.secrets.kv
        mount = self.settings.mount
        try:
            if version == 2:
                answer = kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=False
                )
            else:
                answer = kv.v1.read_secret(path=path, mount_point=mount)
        except hx.InvalidPath as exc:
            if "no handler for route" in _errors_text(exc):
                raise self._translate(exc, call) from exc
            return None, 0
        except _sdk_errors() as exc:
            raise self._translate(exc, call) from exc
        body = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(body, dict):
            raise FormatError(f"{self.describe()} answered {call.api_path} without data")
        if version == 1:
            return body, 0
        metadata = body.get("metadata") or {}
        current = int(metadata.get("version") or 0)
        fields = body.get("data")
        if fields is None:
            _log.debug("latest version of %s is deleted or destroyed", call.api_path)
        return fields, current

    def _list_folder(self, client: Any, version: int, folder: str) -> builtins.list[str]:
        import hvac.exceptions as hx

        api = f"{self.settings.mount}/{'metadata/' if version == 2 else ''}{folder}"
        call = _Call(f"list secrets under '{folder or '/'}'", api, ("list",), folder=folder)
        kv = client.secrets.kv.v2 if version == 2 else client.secrets.kv.v1
        try:
            answer = kv.list_secrets(path=folder, mount_point=self.settings.mount)
        except hx.InvalidPath as exc:
            if "no handler for route" in _errors_text(exc):
                raise self._translate(exc, call) from exc
            return []  # Vault answers 404 for an empty folder
        except _sdk_errors() as exc:
            raise self._translate(exc, call) from exc
        keys = (answer.get("data") or {}).get("keys") if isinstance(answer, dict) else None
        return [k for k in keys or [] if isinstance(k, str)]

    # -- values and names ------------------------------------------------------------

    def _value(self, name: str, call: _Call, data: Mapping[str, Any]) -> str:
        """Pick the configured field's value, or a lone ``DOTENV_PRIVATE_KEY_*`` field as
        ``NAME=value``: the label lets envdrift refuse a key stored for another environment.
        """
        field = self._field_for(data)
        if field not in data:
            fields = ", ".join(sorted(data)) or "none"
            raise FormatError(
                f"secret {name!r} in {self.describe()} has no field '{field}' (its fields: "
                f"{fields}). Set [vault.hashicorp] field to the one holding the key, or write "
                f"it with: vault kv put {self._cli_path(call)} {field}=…"
            )
        value = data[field]
        if not isinstance(value, str):
            raise FormatError(
                f"field '{field}' of secret {name!r} in {self.describe()} is "
                f"{type(value).__name__}, not text"
            )
        return value if field == self.settings.field else f"{field}={value}"

    def _field_for(self, data: Mapping[str, Any]) -> str:
        """The field a read uses and a write updates."""
        field = self.settings.field
        if field not in data and len(data) == 1:
            (only,) = data
            if _DOTENV_FIELD.match(only):
                return str(only)
        return field

    def _secret_path(self, name: str) -> str:
        if (
            not name
            or name.startswith("/")
            or name.endswith("/")
            or _BAD_NAME_CHARS.search(name)
            or any(part in {"", ".", ".."} for part in name.split("/"))
        ):
            raise ConfigError(
                f"secret name {name!r} is not a Vault path: use the path under the mount, "
                "like 'myapp-key' or 'apps/api/prod-key' (no leading or trailing '/', "
                "no empty, '.' or '..' parts)"
            )
        return name

    def _api_path(self, version: int, path: str) -> str:
        return (
            f"{self.settings.mount}/data/{path}"
            if version == 2
            else f"{self.settings.mount}/{path}"
        )

    def _cli_path(self, call: _Call) -> str:
        """The path as the ``vault kv`` commands write it (mount/path, no ``data/``)."""
        target = call.name if call.name is not None else call.folder
        ns = f"-namespace={self.settings.namespace} " if self.settings.namespace else ""
        return f"{ns}{self.settings.mount}/{target}"

    # -- errors ----------------------------------------------------------------------

    def _not_found(self, call: _Call) -> NotFoundError:
        ns = f"-namespace={self.settings.namespace} " if self.settings.namespace else ""
        hint = f" List what is there with: vault kv list {ns}{self.settings.mount}/{call.folder}"
        name = call.name or ""
        if name.startswith(self.settings.mount + "/"):
            hint += (
                f". secret_name is the path under the mount: did you mean "
                f"{name.removeprefix(self.settings.mount + '/')!r}?"
            )
        if self._kv_assumed:
            hint += ". If the mount is KV version 1, set [vault.hashicorp] kv_version = 1"
        return NotFoundError(
            f"secret {name!r} not found in {self.describe()}: nothing at {call.api_path}.{hint}"
        )

    def _translate(self, exc: BaseException, call: _Call) -> EnvdriftError:
        """Turn an hvac or requests exception into an envdrift error that says what to do."""
        import hvac.exceptions as hx
        import requests.exceptions as rx

        from envdrift_hashicorp._http import last_response

        where = self.describe()
        address = f"{self.settings.address} (from {self.settings.address_source})"
        if isinstance(exc, hx.Forbidden):
            if not self._token_is_valid():
                return PermissionDeniedError(
                    f"{where} rejected {self._token_name}: it is invalid, expired or "
                    f"revoked (cannot {call.action}). Log in again: {NO_CREDENTIAL_HELP}"
                )
            caps = ", ".join(f'"{c}"' for c in call.capabilities)
            needs = " and ".join(f"'{c}'" for c in call.capabilities)
            ns = f" (in namespace '{self.settings.namespace}')" if self.settings.namespace else ""
            return PermissionDeniedError(
                f"permission denied: cannot {call.action} in {where}: "
                f"{self._token_name} needs {needs} on {call.api_path}. A policy{ns} stanza "
                f'that grants it: path "{call.api_path}" {{ capabilities = [{caps}] }}'
            )
        if isinstance(exc, hx.InvalidPath):
            if "no handler for route" in _errors_text(exc):
                return NotFoundError(
                    f"cannot {call.action}: {where} has no secrets engine mounted at "
                    f"'{self.settings.mount}/' (looked for {call.api_path}). Set "
                    "[vault.hashicorp] mount to a KV mount; `vault secrets list` shows them"
                )
            return self._not_found(call)
        if isinstance(exc, hx.Unauthorized):
            return PermissionDeniedError(
                f"{where} refused {self._token_name} (401) when trying to {call.action}"
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
            text = _errors_text(exc)
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
                f"Vault at {address} did not answer within {self.settings.timeout:g} s "
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
        text = _errors_text(exc) or type(exc).__name__
        return VaultError(f"{where} refused to {call.action}: {_short(text)}")

    def _token_is_valid(self) -> bool:
        """Whether the token works at all: a 403 means "not allowed" or "bad token"."""
        if self._token_valid is None:
            import hvac.exceptions as hx

            try:
                self._hvac().auth.token.lookup_self()
                self._token_valid = True
            except hx.Forbidden:
                self._token_valid = False
            except _sdk_errors():
                return True  # unknown: say what is known, the request's own error
        return self._token_valid


def _sdk_errors() -> tuple[type[BaseException], ...]:
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


def _errors_text(exc: BaseException) -> str:
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


def _folder(path: str) -> str:
    return path[: path.rfind("/") + 1]
