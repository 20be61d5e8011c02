"""The test proxy itself: latency and each kind of fault, against a real HTTP server."""

from __future__ import annotations

import http.client
import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from tests.servers.proxy import Faults, TcpProxy


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, timeout: float = 5.0, conn: http.client.HTTPConnection | None = None) -> int:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", "/")
    response = conn.getresponse()
    response.read()
    return response.status


def test_forwards_and_delays_each_request_once(upstream: int) -> None:
    with TcpProxy("127.0.0.1", upstream, delay=0.05) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        start = time.perf_counter()
        assert [get(proxy.port, conn=conn) for _ in range(3)] == [200, 200, 200]
        elapsed = time.perf_counter() - start
        conn.close()
    assert proxy.stats.requests == 3
    assert elapsed >= 0.15


def test_injects_http_errors(upstream: int) -> None:
    faults = Faults(error_rate=1.0, error_statuses=(503,), retry_after=1)
    with TcpProxy("127.0.0.1", upstream, faults=faults) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 503
        assert response.getheader("Retry-After") == "1"
    assert proxy.stats.statuses == {503: 1}


def test_resets_connections(upstream: int) -> None:
    with (
        TcpProxy("127.0.0.1", upstream, faults=Faults(reset_rate=1.0)) as proxy,
        pytest.raises((ConnectionError, http.client.RemoteDisconnected)),
    ):
        get(proxy.port)
    assert proxy.stats.resets == 1


def test_hangs_until_the_client_gives_up(upstream: int) -> None:
    with (
        TcpProxy("127.0.0.1", upstream, faults=Faults(hang_rate=1.0)) as proxy,
        pytest.raises(TimeoutError),
    ):
        get(proxy.port, timeout=0.3)
    assert proxy.stats.hangs == 1


def test_fault_sequence_is_reproducible_with_a_seed(upstream: int) -> None:
    def outcomes() -> list[int]:
        seen = []
        with TcpProxy("127.0.0.1", upstream, faults=Faults(error_rate=0.5, seed=7)) as proxy:
            for _ in range(20):
                seen.append(get(proxy.port))
        return seen

    first = outcomes()
    assert first == outcomes()
    assert 200 in first
    assert any(status != 200 for status in first)


def test_injects_a_service_specific_error_body(upstream: int) -> None:
    throttled = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
    faults = Faults(error_rate=1.0, error_statuses=(400,), error_bodies={400: throttled})
    with TcpProxy("127.0.0.1", upstream, faults=faults) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert (response.status, response.reason) == (400, "Bad Request")
        assert response.read() == throttled
    assert proxy.stats.statuses == {400: 1}


def test_faults_can_target_matching_requests_only(upstream: int) -> None:
    faults = Faults(error_rate=1.0, error_statuses=(503,), only_if=b"GET /broken ")
    with TcpProxy("127.0.0.1", upstream, faults=faults) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        conn.request("GET", "/fine")
        assert conn.getresponse().status == 200
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        conn.request("GET", "/broken")
        assert conn.getresponse().status == 503
    assert (proxy.stats.requests, proxy.stats.errors) == (2, 1)
