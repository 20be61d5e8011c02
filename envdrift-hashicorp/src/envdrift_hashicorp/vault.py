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
from typing import TYPE_CHECKING, Any, Literal

from envdrift import (
    ConfigError,
    FormatError,
    Secret,
    UnavailableError,
    Vault,
    VaultContext,
    VaultError,
)

from envdrift_hashicorp._credentials import find_credential
from envdrift_hashicorp._errors import (
    _Call,
    errors_text,
    is_cas_conflict,
    login_failed,
    missing_sdk,
    no_route,
    not_found,
    sdk_errors,
    translate,
    translate_write,
)
from envdrift_hashicorp._settings import OPTION_KEYS, Settings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from envdrift_hashicorp._credentials import Credential, JwtSource

__all__ = ["HashicorpVault"]

_log = logging.getLogger("envdrift.hashicorp")

#: A secret written as ``vault kv put secret/x DOTENV_PRIVATE_KEY_PRODUCTION=…``.
_DOTENV_FIELD = re.compile(r"^DOTENV_PRIVATE_KEY(?:_[A-Za-z0-9_]+)?$")
_BAD_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")


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
        api_path = self._api_path(version, path)
        call = self._call(f"read secret {name!r}", api_path, ("read",), name, _folder(path))
        data = self._read(client, version, path, call)
        if data is None:
            raise not_found(call)
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
        read = self._call(f"read secret {name!r} before writing it", api_path, ("read",), name)
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
        write = self._call(f"write secret {name!r}", api_path, ("create", "update"), name)
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
        except sdk_errors() as exc:
            if is_cas_conflict(exc):
                raise VaultError(
                    f"secret {name!r} in {self.describe()} changed while envdrift was writing "
                    f"it (check-and-set on {api_path} expected version {current_version}); "
                    "nothing was overwritten. Run the command again to write on top of the "
                    "new version."
                ) from None
            raise translate_write(exc, write) from exc
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
        call = self._call("look up its own token", "auth/token/lookup-self", ("read",))
        try:
            client.auth.token.lookup_self()
        except sdk_errors() as exc:
            raise translate(exc, call) from exc
        self._kv_version(client, asked)

    def close(self) -> None:
        # Without the lock: a thread may hold it through a hung request (the KV-version
        # lookup), and closing must not wait for that (Ctrl-C, the run's deadline).
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
            raise missing_sdk(exc) from None
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
        login = self._call("log in with AppRole", f"auth/{mount}/login", ("create", "update"))
        try:
            client.auth.approle.login(
                role_id=credential.role_id.reveal(),
                secret_id=credential.secret_id.reveal() if credential.secret_id else None,
                mount_point=mount,
            )
        except sdk_errors() as exc:
            raise login_failed(
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
        login = self._call(
            f"log in with a JWT as role '{role}'", f"auth/{mount}/login", ("update",)
        )
        jwt = source.get(settings.timeout)
        try:
            client.auth.jwt.jwt_login(role=role, jwt=jwt.reveal(), path=mount)
        except sdk_errors() as exc:
            check = f"Check the JWT from {source.where}, [vault.hashicorp] jwt_role and jwt_mount"
            if "audience" in errors_text(exc):
                check = (
                    f"The role's bound_audiences must list the audience of the JWT from "
                    f"{source.where} (on GitHub Actions, set [vault.hashicorp] jwt_audience "
                    "to one of them)"
                )
            raise login_failed(exc, login, "JWT", what, check, conceal=jwt) from None
        _log.debug("JWT login succeeded")

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
        call = self._call(
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
        except sdk_errors() as exc:
            raise translate(exc, call) from exc
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
            if no_route(exc):
                raise translate(exc, call) from exc
            return None, 0
        except sdk_errors() as exc:
            raise translate(exc, call) from exc
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
        call = self._call(f"list secrets under '{folder or '/'}'", api, ("list",), folder=folder)
        kv = client.secrets.kv.v2 if version == 2 else client.secrets.kv.v1
        try:
            answer = kv.list_secrets(path=folder, mount_point=self.settings.mount)
        except hx.InvalidPath as exc:
            if no_route(exc):
                raise translate(exc, call) from exc
            return []  # Vault answers 404 for an empty folder
        except sdk_errors() as exc:
            raise translate(exc, call) from exc
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
                f"it with: vault kv put {call.cli_path} {field}=…"
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

    # -- errors ----------------------------------------------------------------------

    def _call(
        self,
        action: str,
        api_path: str,
        capabilities: tuple[str, ...],
        name: str | None = None,
        folder: str = "",
    ) -> _Call:
        """Describe one request, with what its error message needs to know of this vault."""
        return _Call(
            action,
            api_path,
            capabilities,
            vault=self.describe(),
            settings=self.settings,
            token_name=self._token_name,
            name=name,
            folder=folder,
            kv_assumed=self._kv_assumed,
            token_is_valid=self._token_is_valid,
        )

    def _token_is_valid(self) -> bool:
        """Whether the token works at all: a 403 means "not allowed" or "bad token"."""
        if self._token_valid is None:
            import hvac.exceptions as hx

            try:
                self._hvac().auth.token.lookup_self()
                self._token_valid = True
            except hx.Forbidden:
                self._token_valid = False
            except sdk_errors():
                return True  # unknown: say what is known, the request's own error
        return self._token_valid


def _folder(path: str) -> str:
    return path[: path.rfind("/") + 1]
