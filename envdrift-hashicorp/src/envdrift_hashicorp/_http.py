"""The HTTP session under hvac: connection pool, bounded retries and TLS.

Imported only when the backend first talks to Vault (it imports requests and urllib3).
One ``requests.Session`` serves every thread of ``Vault.fetch_many``: urllib3's
connection pool is thread-safe, and envdrift never touches the session's mutable state
(cookies, adapters) after building it. The pool is sized so that concurrent reads each
get a kept-alive connection instead of opening and discarding extra ones.
"""

from __future__ import annotations

import os
import ssl
import warnings
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

    from envdrift_hashicorp.settings import TlsSettings

__all__ = ["POOL_SIZE", "build_session", "verify_argument"]

#: Connections kept per host: more than any sensible ``--jobs``.
POOL_SIZE = 64
#: Vault answers these when a retry may succeed (412: a performance standby is behind).
RETRY_STATUSES = frozenset({412, 429, 500, 502, 503, 504})
#: Requests whose repetition cannot do harm. Writes are retried only on 429 (refused
#: before being processed) and on connections that never opened (nothing was sent).
IDEMPOTENT = frozenset({"GET", "HEAD", "LIST", "OPTIONS"})
#: Waits of 0.5 s, 1 s, then 2 s: close to the Vault CLI's 1-1.5 s, which outlasts the
#: one-second windows of Vault's rate-limit quotas (they send no Retry-After by default).
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 2.0


class _BoundedRetry(Retry):
    """urllib3's ``Retry``, waiting before the first retry as well, never over ``backoff_max``.

    urllib3 retries the first failure at once and sleeps as long as any ``Retry-After``
    asks; Vault's rate-limit quotas can ask for minutes. Both are bounded here so a run
    stays predictable: at most ``total`` retries of at most ``backoff_max`` seconds each.
    A read that timed out is not repeated (the timeout bounds each call), while a read
    whose connection was reset is (urllib3 files both under "read errors").
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if isinstance(error, urllib3.exceptions.ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        if not self.history:
            return 0.0
        return min(self.backoff_max, max(self.backoff_factor, super().get_backoff_time()))

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.backoff_max)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and self.total:
            return True
        return super().is_retry(method, status_code, has_retry_after)


class _VaultAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that can carry an SSL context (for ``VAULT_CAPATH``)."""

    def __init__(self, ssl_context: ssl.SSLContext | None, **kwargs: Any) -> None:
        self._ssl_context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        if self._ssl_context is not None:
            pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def build_session(
    address: str, tls: TlsSettings, *, max_retries: int, proxy: str | None = None
) -> requests.Session:
    """Return a session with a big pool, bounded retries, TLS options and proxies applied.

    The environment is read here, once: requests would otherwise scan all of
    ``os.environ`` for proxy settings (and look for ``~/.netrc``) on every request, a
    fifth of a read's CPU time, which threads sharing one GIL pay in series.
    """
    retry = _BoundedRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,  # resets of idempotent requests; never timeouts (see above)
        other=0,
        redirect=False,
        status=max_retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=IDEMPOTENT,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=0.1,
        # Give the last answer back to hvac, which turns it into its typed exception
        # (with Vault's own error text, e.g. "Vault is sealed").
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    context = _capath_context(tls) if tls.ca_cert is None and tls.ca_path else None
    adapter = _VaultAdapter(context, pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=retry)
    session = requests.Session()
    session.trust_env = False
    if proxy:  # VAULT_PROXY_ADDR / VAULT_HTTP_PROXY, as the Vault CLI reads them
        session.proxies = {"http": proxy, "https": proxy}
    else:  # HTTP(S)_PROXY, ALL_PROXY and NO_PROXY for the Vault host, as requests reads them
        found = requests.utils.get_environ_proxies(address)
        session.proxies = {k: v for k, v in found.items() if k in ("http", "https", "all")}
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if tls.client_cert is not None:
        session.cert = tls.client_cert
    if tls.skip_verify:
        # The user asked for it explicitly, as with the Vault CLI, which stays quiet.
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    return session


def verify_argument(tls: TlsSettings) -> bool | str:
    """What to pass as requests' ``verify``: False, a CA file, or True (default trust).

    Without a Vault setting, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` still apply, as
    they do for every requests user (``trust_env`` is off, so this reads them instead).
    """
    if tls.skip_verify:
        return False
    if tls.ca_cert is not None:
        return str(tls.ca_cert)
    if tls.ca_path is None:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            return bundle
    return True


def _capath_context(tls: TlsSettings) -> ssl.SSLContext:
    """Trust exactly the PEM files in ``VAULT_CAPATH``, every one of them, as the Vault CLI does.

    OpenSSL's own ``capath`` would only find certificates under hashed names
    (``c_rehash``); the Vault CLI reads every file and refuses a file that is not PEM.
    """
    from envdrift import ConfigError

    assert tls.ca_path is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies; trusts nothing yet
    files = sorted(p for p in tls.ca_path.iterdir() if p.is_file())
    for path in files:
        try:
            context.load_verify_locations(cafile=str(path))
        except (ssl.SSLError, UnicodeDecodeError):
            raise ConfigError(
                f"VAULT_CAPATH: {path} is not a PEM certificate; the directory must hold "
                "only CA certificates"
            ) from None
    if not files:
        raise ConfigError(f"VAULT_CAPATH={str(tls.ca_path)!r} holds no certificate")
    return context
