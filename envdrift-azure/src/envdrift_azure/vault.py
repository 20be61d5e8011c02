"""``AzureVault``: Azure Key Vault secrets through ``azure-keyvault-secrets``.

Configuration (``[vault.azure]`` in ``envdrift.toml``)::

    [vault.azure]
    vault_url = "https://my-keyvault.vault.azure.net/"       # or --vault-url
    # vault_url_template = "https://{name}.vault.azure.cn/" # how vault_name becomes a URL
    # authority_host = "login.chinacloudapi.cn"              # else AZURE_AUTHORITY_HOST

Which vault a mapping uses, strongest first:

1. the mapping's ``vault_name`` (``VaultContext.vault_name``), through
   ``vault_url_template``: by default ``https://<name>.vault.azure.net/``, or the suffix
   of the cloud that ``AZURE_AUTHORITY_HOST`` names (``vault.azure.cn``,
   ``vault.usgovcloudapi.net``);
2. ``--vault-url`` on the command line;
3. ``[vault.azure] vault_url``.

``[vault.sync] default_vault_name`` reaches the backend as the ``vault_name`` of every
mapping without one, except when ``--vault-url`` is given: the sync engine then drops it,
so the flag overrides the file's default while a mapping that names its own vault (or a
``pair.txt`` line ``vault/secret``) keeps it.

Sign-in is ``DefaultAzureCredential``: environment service principal, workload identity,
managed identity, Azure CLI, … exactly as the Azure tools do. A private CA is trusted
through ``REQUESTS_CA_BUNDLE``, as for every ``requests``-based tool.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from envdrift import (
    ConfigError,
    EnvdriftError,
    FormatError,
    NotFoundError,
    Secret,
    Vault,
    VaultContext,
    require_str,
)

from envdrift_azure._errors import Operation, _Call, missing_sdk, translate
from envdrift_azure._settings import (
    OPTION_KEYS,
    Settings,
    check_secret_name,
    check_vault_name,
    normalise_vault_url,
    vault_url_from_template,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import TypeVar

    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient
    from envdrift import SyncMapping

    T = TypeVar("T")

__all__ = ["AzureVault"]

# Key Vault requests make one attempt each: envdrift retries them (Vault.retrying), the
# same way for every backend. Sign-in keeps azure-core's retries, bounded (its default is
# 10 retries with a backoff reaching minutes): tokens are fetched once per run, and a
# failed sign-in surfaces as an authentication error that envdrift does not retry.
_NO_RETRY = {"retry_total": 0}
_SIGN_IN_RETRY = {
    "retry_total": 3,
    "retry_connect": 2,
    "retry_read": 2,
    "retry_status": 3,
    "retry_backoff_factor": 0.25,
    "retry_backoff_max": 4,
}


#: Connections kept per vault: as many as ``envdrift sync --jobs`` can have in flight.
_POOL_SIZE = 256


class AzureVault(Vault):
    """Secrets in Azure Key Vault; one instance talks to one vault."""

    name = "azure"
    description = "Azure Key Vault (DefaultAzureCredential: az login, env, managed identity)"
    cli_options: ClassVar[Mapping[str, str]] = {"vault_url": "vault_url"}
    option_keys = OPTION_KEYS

    def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
        super().__init__(options, context)
        self.settings = Settings.resolve(self.options, self.name)
        self.vault_url = self._resolve_url(context)
        self._lock = threading.Lock()
        self._client: SecretClient | None = None
        self._credential: DefaultAzureCredential | None = None

    @classmethod
    def route(cls, mapping: SyncMapping, overrides: Mapping[str, Any]) -> tuple[str | None, str]:
        """A mapping's ``vault_name`` (or ``pair.txt``'s ``name/``) selects the Key Vault,
        except a ``default_vault_name`` that ``--vault-url`` replaces for the run."""
        if cls.address_overridden(mapping, overrides):
            return None, mapping.secret_name
        return mapping.vault_name, mapping.secret_name

    def _resolve_url(self, context: VaultContext) -> str:
        if context.vault_name is not None:
            check_vault_name(context.vault_name)
            return vault_url_from_template(
                self.settings.vault_url_template,
                context.vault_name,
                "[vault.azure] vault_url_template",
            )
        override = context.overrides.get("vault_url")
        if override is not None:
            return normalise_vault_url(str(override), "--vault-url")
        configured = require_str(self.options, "vault_url", self.name)
        if configured:
            return normalise_vault_url(configured, "[vault.azure] vault_url")
        raise ConfigError(
            "vault 'azure' needs to know which Key Vault to use: set [vault.azure] vault_url "
            '= "https://<name>.vault.azure.net/", [vault.sync] default_vault_name, a '
            "mapping's vault_name, or pass --vault-url"
        )

    def describe(self) -> str:
        return f"vault 'azure' ({self.vault_url})"

    # -- the SDK client ----------------------------------------------------------------

    def _secret_client(self) -> SecretClient:
        """The one ``SecretClient`` of this vault, created on first use.

        azure-core pipelines are thread-safe, so ``fetch_many``'s threads share it (and
        its connection pool, token and cached challenge).
        """
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> SecretClient:
        import logging

        try:
            from azure.identity import DefaultAzureCredential
            from azure.keyvault.secrets import SecretClient
        except ImportError as exc:
            raise missing_sdk(exc) from None

        # azure-identity logs each failed sign-in at WARNING. Without a handler anywhere,
        # Python's last-resort handler would print that to stderr next to our own error;
        # a NullHandler stops that and still lets --debug logging see the records.
        azure_logger = logging.getLogger("azure")
        if not azure_logger.handlers:
            azure_logger.addHandler(logging.NullHandler())

        _prepare_sdk_models()
        timeouts = {
            "connection_timeout": min(self.context.timeout, 10.0),
            "read_timeout": self.context.timeout,
        }
        credential_options: dict[str, Any] = {**_SIGN_IN_RETRY, **timeouts}
        if self.settings.authority:
            credential_options["authority"] = self.settings.authority
        if not self.settings.discover_instance:
            credential_options["disable_instance_discovery"] = True
        self._credential = DefaultAzureCredential(**credential_options)
        return SecretClient(
            self.vault_url,
            self._credential,
            verify_challenge_resource=self.settings.verify_challenge_resource,
            transport=_pooled_transport(self.vault_url, **timeouts),
            timeout=self.context.timeout,
            **_NO_RETRY,
        )

    def _request(
        self, operation: Operation, secret: str | None, call: Callable[[SecretClient], T]
    ) -> T:
        """Run ``call`` with the client under ``retrying``; SDK errors become envdrift errors."""
        what = f"{operation} secret {secret!r}" if secret is not None else f"{operation} secrets"
        return self.retrying(lambda: self._attempt(operation, secret, call), what=what)

    def _attempt(
        self, operation: Operation, secret: str | None, call: Callable[[SecretClient], T]
    ) -> T:
        client = self._secret_client()
        from azure.core.exceptions import AzureError

        try:
            return call(client)
        # ValueError: the SDK's challenge-resource check raises it, outside AzureError.
        except (AzureError, ValueError) as exc:
            raise translate(exc, _Call(operation, self.describe(), self.vault_url, secret)) from exc

    # -- the Vault interface -----------------------------------------------------------

    def fetch(self, name: str) -> Secret:
        """Return the current version of secret ``name``.

        A disabled current version is an error that says so, never a silent fallback to
        an older version: disabling is how Key Vault users block a value.
        """
        check_secret_name(name, self.describe())
        bundle = self._request("get", name, lambda client: client.get_secret(name))
        if bundle.value is None:
            raise FormatError(f"secret {name!r} in {self.describe()} has no value")
        return Secret(bundle.value)

    def fetch_many(
        self, names: Iterable[str], *, jobs: int = 8
    ) -> dict[str, Secret | EnvdriftError]:
        """Fetch on ``jobs`` threads sharing one client; see ``Vault.fetch_many``.

        On a fresh backend the first name is fetched alone: that request does Key Vault's
        challenge handshake and gets the token every thread then shares. Otherwise each
        thread would race through its own handshake and token request.
        """
        unique = list(dict.fromkeys(names))
        with self._lock:
            cold = self._client is None
        if not cold or len(unique) < 2 or jobs < 2:
            return super().fetch_many(unique, jobs=jobs)
        first = super().fetch_many(unique[:1], jobs=1)
        return {**first, **super().fetch_many(unique[1:], jobs=jobs)}

    def store(self, name: str, value: Secret) -> None:
        """Store ``value`` as a new version of ``name`` (the old versions stay)."""
        check_secret_name(name, self.describe())
        self._request("set", name, lambda client: client.set_secret(name, value.reveal()))

    def list(self, prefix: str = "") -> list[str]:
        """Names of the secrets starting with ``prefix``, following every page.

        Secrets that back certificates (``managed``) are left out: they are not ours
        to sync.
        """

        def names(client: SecretClient) -> list[str]:
            return sorted(
                props.name
                for props in client.list_properties_of_secrets()
                if props.name and props.name.startswith(prefix) and not props.managed
            )

        return self._request("list", None, names)

    def check(self) -> None:
        """Sign in and read from the vault; needs only the ``get`` permission.

        Reads a random name that does not exist: Key Vault checks permissions before
        existence, so "not found" proves sign-in, network and the right to read, while
        an identity without ``list`` (which sync never needs) still passes.
        """
        probe = f"envdrift-check-{uuid.uuid4().hex}"
        try:
            self._request("get", probe, lambda client: client.get_secret(probe))
        except NotFoundError:
            return

    def close(self) -> None:
        """Close the client's connections and the credential's."""
        with self._lock:
            client, credential = self._client, self._credential
            self._client = self._credential = None
        if client is not None:
            client.close()
        if credential is not None:
            credential.close()


_models_ready = False
_models_lock = threading.Lock()


def _prepare_sdk_models() -> None:
    """Build the SDK's per-class model tables once, on one thread, before any request.

    azure-keyvault-secrets' generated models fill their field tables lazily in
    ``Model.__new__``, which is not thread-safe: the first responses deserialized on
    several threads at once can come back as plain dicts (the SDK swallows the error),
    so ``get_secret`` fails with "'dict' object has no attribute 'attributes'"
    (Azure/azure-sdk-for-python#47426; seen here when sync reads two vaults at once).
    One empty instance of each model class, made under a lock, fills the tables first.
    """
    global _models_ready
    with _models_lock:
        if _models_ready:
            return
        _models_ready = True
        try:
            from azure.keyvault.secrets._generated import models
            from azure.keyvault.secrets._generated._utils.model_base import Model
        except ImportError:  # another SDK layout: nothing known to prepare
            return
        for value in vars(models).values():
            if isinstance(value, type) and issubclass(value, Model):
                with contextlib.suppress(Exception):
                    value()


def _pooled_transport(vault_url: str, **timeouts: float) -> RequestsTransport:
    """azure-core's requests transport, tuned for many small concurrent reads.

    * It keeps up to ``_POOL_SIZE`` connections: requests keeps 10 per host by default,
      so with more threads every extra read would open a TLS connection (two more round
      trips) and throw it away afterwards.
    * It reads the environment once: requests re-reads proxies and the CA bundle from
      ``os.environ`` on every request (about 15 % of a warm read's CPU). The same rules
      apply, only earlier: ``HTTPS_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE`` (then
      ``CURL_CA_BUNDLE``), as requests itself would read them.
    """
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from requests.adapters import HTTPAdapter
    from requests.utils import get_environ_proxies
    from urllib3.util.retry import Retry

    session = requests.Session()
    session.trust_env = False
    session.proxies.update(get_environ_proxies(vault_url))
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    # azure-core's RetryPolicy does the retrying; urllib3 must not retry underneath it
    # (the setting azure-core gives its own adapter).
    no_retries = Retry(total=False, redirect=False, raise_on_status=False)
    session.mount("https://", HTTPAdapter(pool_maxsize=_POOL_SIZE, max_retries=no_retries))
    return RequestsTransport(
        session=session, session_owner=True, connection_verify=verify, **timeouts
    )
