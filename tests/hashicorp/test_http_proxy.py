"""HTTP proxies from the environment, read once per backend (not on every request).

The loopback TCP proxy from ``tests/servers/proxy.py`` forwards bytes to OpenBao, which
accepts the absolute-form requests (``GET http://host/v1/…``) a client sends to an HTTP
proxy; the Vault address itself does not resolve, so only the proxy can reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from envdrift import RetryPolicy, UnavailableError
from envdrift_hashicorp import HashicorpVault

from tests.servers.openbao import OpenBao
from tests.servers.proxy import TcpProxy

MakeVault = Callable[..., HashicorpVault]
UNRESOLVABLE = "http://vault.envdrift-test.invalid:8200"


@pytest.fixture
def proxy(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpProxy]:
    port = int(openbao.address.rsplit(":", 1)[1])
    with TcpProxy("127.0.0.1", port) as running:
        monkeypatch.setenv("VAULT_ADDR", UNRESOLVABLE)
        monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.lower(), raising=False)
        yield running


@pytest.fixture
def secret(openbao: OpenBao, uid: str) -> str:
    openbao.kv_put(f"secret/{uid}", value="through-the-proxy")
    return uid


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "VAULT_PROXY_ADDR"])
def test_requests_go_through_the_configured_proxy(
    proxy: TcpProxy,
    secret: str,
    make_vault: MakeVault,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.port}")
    vault = make_vault()
    assert vault.fetch(secret).reveal() == "through-the-proxy"
    assert proxy.stats.requests >= 2  # the mount's KV version, then the secret


def test_no_proxy_bypasses_it(
    proxy: TcpProxy, secret: str, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("NO_PROXY", ".invalid")
    with pytest.raises(UnavailableError, match="cannot reach Vault at"):
        make_vault(retry=RetryPolicy(retries=0)).fetch(secret)
    assert proxy.stats.requests == 0


def test_vault_proxy_addr_wins_over_no_proxy(
    proxy: TcpProxy, secret: str, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_PROXY_ADDR", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("NO_PROXY", "*")
    assert make_vault().fetch(secret).reveal() == "through-the-proxy"
