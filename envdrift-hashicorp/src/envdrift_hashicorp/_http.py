"""The HTTP session under hvac: connection pool, TLS, one attempt per request.

Imported only when the backend first talks to Vault (it imports requests and urllib3).
One ``requests.Session`` serves every thread of ``Vault.fetch_many``: urllib3's
connection pool is thread-safe, and envdrift never touches the session's mutable state
(cookies, adapters) after building it. The pool is sized so that concurrent reads each
get a kept-alive connection instead of opening and discarding extra ones.
"""

from __future__ import annotations

import os
import ssl
import threading
import warnings
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from envdrift import parse_retry_after
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from envdrift_hashicorp._settings import TlsSettings

__all__ = ["POOL_SIZE", "build_session", "last_response", "verify_argument"]

#: Connections kept per host: more than any sensible ``--jobs``.
POOL_SIZE = 64
_last = threading.local()


def last_response() -> tuple[int, float | None]:
    """The status and ``Retry-After`` (seconds) of the last response this thread received.

    hvac's exceptions carry neither (and map 412 and 504 to one ``UnexpectedError``), so
    a response hook keeps them per thread: ``fetch_many``'s threads share the session,
    and each reads its own answer.
    """
    status: int = getattr(_last, "status", 0)
    retry_after: float | None = getattr(_last, "retry_after", None)
    return status, retry_after


def _remember(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    _last.status = response.status_code
    _last.retry_after = parse_retry_after(response.headers.get("Retry-After"))


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


def build_session(address: str, tls: TlsSettings, *, proxy: str | None = None) -> requests.Session:
    """Return a session with a big pool, TLS options and proxies applied, and no retries.

    Each request is one attempt: envdrift retries (``Vault.retrying``) the same way for
    every backend, so urllib3 must not retry underneath it. The environment is read here,
    once: requests would otherwise scan all of ``os.environ`` for proxy settings (and
    look for ``~/.netrc``) on every request, a fifth of a read's CPU time, which threads
    sharing one GIL pay in series.
    """
    retry = Retry(total=0, read=False, redirect=False, raise_on_status=False)
    context = _capath_context(tls) if tls.ca_cert is None and tls.ca_path else None
    adapter = _VaultAdapter(context, pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=retry)
    session = requests.Session()
    session.hooks["response"].append(_remember)
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
