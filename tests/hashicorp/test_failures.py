"""Unreachable, sealed, throttled and failing servers: bounded retries, then a clear error.

Sealing and rate limiting run on real OpenBao. How many requests a retry policy sends
is counted on a tiny loopback HTTP server that answers what Vault answers (status and
``{"errors": [...]}`` body); hvac and requests are used unchanged against it. Retries
are envdrift's own (``envdrift.retry``), set per test through ``VaultContext.retry``.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from envdrift import NotFoundError, RetryPolicy, Secret, UnavailableError
from envdrift_hashicorp import HashicorpVault

from tests.servers import free_port
from tests.servers.openbao import OpenBao, openbao_server
from tests.servers.proxy import Faults, TcpProxy

MakeVault = Callable[..., HashicorpVault]
RESET = 0  # a FlakyVault "status": reset the connection

#: Retries off: the tests that expect a failure need not wait for backoff.
NO_RETRY = RetryPolicy(retries=0)


class FlakyVault:
    """A loopback server speaking Vault's KV v2 read/write envelope, failing on demand.

    ``failures[(method, path)] = (status, count)`` makes the next ``count`` such requests
    answer ``status`` (``RESET``: reset the connection instead); ``count=None`` fails
    forever. ``requests`` counts ``(method, path)``. Secrets read back their own path.
    """

    def __init__(self) -> None:
        self.failures: dict[tuple[str, str], tuple[int, int | None]] = {}
        self.requests: Counter[tuple[str, str]] = Counter()
        self.delay = 0.0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # see shared/notes/test-servers.md
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, status: int, body: object) -> None:
                raw = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.removeprefix("/v1/secret/data/")
                key = (self.command, path)
                with outer.lock:
                    outer.requests[key] += 1
                    status, left = outer.failures.get(key, (0, 0))
                    failing = left is None or left > 0
                    if failing and left is not None:
                        outer.failures[key] = (status, left - 1)
                time.sleep(outer.delay)
                if failing and status == RESET:
                    # RST rather than FIN, as a crashed server or a middlebox would.
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                elif failing:
                    self._answer(status, {"errors": [f"simulated {status}"]})
                elif self.command == "GET":
                    data = {"data": {"value": path}, "metadata": {"version": 1}}
                    self._answer(200, {"data": data})
                else:
                    self._answer(200, {"data": {"version": 2}})

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def flaky() -> Iterator[FlakyVault]:
    server = FlakyVault()
    thread = threading.Thread(target=server.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join()


@pytest.fixture
def flaky_vault(
    flaky: FlakyVault, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., HashicorpVault]:
    monkeypatch.setenv("VAULT_TOKEN", "test-token")
    return lambda **context: make_vault({"url": flaky.address, "kv_version": 2}, **context)


def test_5xx_is_retried_with_backoff_then_succeeds(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    flaky.failures[("GET", "k")] = (503, 1)
    assert flaky_vault(retry=RetryPolicy(retries=1)).fetch("k").reveal() == "k"
    assert flaky.requests[("GET", "k")] == 2


@pytest.mark.parametrize("status", [412, 504])
def test_statuses_hvac_has_no_exception_for_are_retried_too(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault], status: int
) -> None:
    flaky.failures[("GET", "k")] = (status, 1)
    assert flaky_vault(retry=RetryPolicy(retries=1, backoff=0.01)).fetch("k").reveal() == "k"
    assert flaky.requests[("GET", "k")] == 2


def test_retries_are_bounded_then_the_error_names_the_address(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    flaky.failures[("GET", "k")] = (502, None)
    with pytest.raises(UnavailableError) as info:
        flaky_vault(retry=RetryPolicy(retries=2, backoff=0.01)).fetch("k")
    assert flaky.requests[("GET", "k")] == 3
    message = str(info.value)
    assert f"Vault at {flaky.address}" in message
    assert "simulated 502" in message
    assert "(gave up after 3 attempts in " in message


def test_a_failing_mapping_does_not_stop_the_others(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    flaky.failures[("GET", "broken")] = (500, None)
    results = flaky_vault(retry=NO_RETRY).fetch_many(["a", "broken", "b"])
    assert isinstance(results["broken"], UnavailableError)
    assert {n: r.reveal() for n, r in results.items() if isinstance(r, Secret)} == {
        "a": "a",
        "b": "b",
    }


def test_a_write_refused_with_429_is_retried(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    flaky.failures[("POST", "w")] = (429, 1)  # throttled: refused before being processed
    flaky_vault().store("w", Secret("v"))
    assert flaky.requests[("POST", "w")] == 2


def test_a_write_failing_with_5xx_is_sent_once(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    # The server may have stored it before failing; a repeat would then fail check-and-set.
    flaky.failures[("POST", "w")] = (503, None)
    with pytest.raises(UnavailableError) as info:
        flaky_vault().store("w", Secret("v"))
    assert flaky.requests[("POST", "w")] == 1
    assert not info.value.transient


def test_a_read_whose_connection_is_reset_is_retried(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    flaky.failures[("GET", "k")] = (RESET, 1)
    assert flaky_vault().fetch("k").reveal() == "k"
    assert flaky.requests[("GET", "k")] == 2


def test_a_write_whose_connection_is_reset_is_not_repeated(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    # The server may have stored it before the connection broke.
    flaky.failures[("POST", "w")] = (RESET, None)
    with pytest.raises(UnavailableError, match=r"the connection to Vault at .* broke"):
        flaky_vault().store("w", Secret("v"))
    assert flaky.requests[("POST", "w")] == 1


def test_random_resets_on_the_way_are_absorbed(
    openbao: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch, uid: str
) -> None:
    names = [f"{uid}/{i}" for i in range(8)]
    for name in names:
        openbao.kv_put(f"secret/{name}", value=name)
    port = int(openbao.address.rsplit(":", 1)[1])
    # Seeded, and fetched one at a time, so the same requests are reset on every run
    # (with seed 10: the 4th and the 8th).
    with TcpProxy("127.0.0.1", port, faults=Faults(reset_rate=0.25, seed=10)) as proxy:
        monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
        results = make_vault({"kv_version": 2}).fetch_many(names, jobs=1)
    assert {n: r.reveal() for n, r in results.items() if isinstance(r, Secret)} == {
        n: n for n in names
    }
    assert proxy.stats.resets == 2


def test_a_slow_answer_times_out_per_call(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    flaky.delay = 1.0
    with pytest.raises(UnavailableError, match=r"did not answer within 0\.2 s"):
        flaky_vault(timeout=0.2, retry=NO_RETRY).fetch("k")
    assert flaky.requests[("GET", "k")] == 1


def test_a_timed_out_read_is_retried_within_the_call_budget(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    # Each attempt may take 0.2 s and the call 0.5 s: a second attempt fits, a third not.
    flaky.delay = 1.0
    policy = RetryPolicy(retries=4, call_budget=0.5, backoff=0.01)
    with pytest.raises(UnavailableError, match=r"call's limit of 0\.5 s"):
        flaky_vault(timeout=0.2, retry=policy).fetch("k")
    assert flaky.requests[("GET", "k")] == 2


def test_unreachable_server_says_so_with_the_address(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("VAULT_ADDR", address)
    monkeypatch.setenv("VAULT_TOKEN", "t")
    with pytest.raises(UnavailableError) as info:
        make_vault(retry=NO_RETRY).fetch("k")
    message = str(info.value)
    assert f"cannot reach Vault at {address} (from VAULT_ADDR)" in message
    assert "Connection refused" in message


def test_without_any_address_the_vault_cli_default_is_named(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "t")
    vault = make_vault(retry=NO_RETRY)
    assert "https://127.0.0.1:8200" in vault.describe()
    with pytest.raises(UnavailableError, match="the Vault CLI's default; set VAULT_ADDR"):
        vault.fetch("k")


def test_sealed_server_says_so(
    make_vault: MakeVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with openbao_server(tmp_path / "sealed") as server:
        server.kv_put("secret/k", value="v")
        server.api("PUT", "sys/seal")  # what `vault operator seal` does
        monkeypatch.setenv("VAULT_TOKEN", server.root_token)
        with pytest.raises(UnavailableError) as info:
            make_vault({"url": server.address}).fetch("k")  # sealed: not retried
    message = str(info.value)
    assert f"Vault at {server.address}" in message
    assert "is sealed" in message
    assert "vault operator unseal" in message


def test_rate_limited_reads_are_retried_with_backoff(
    vault_env: OpenBao,
    make_vault: MakeVault,
    uid: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real OpenBao rate-limit quota on a mount of this test's own: one request a second.
    mount = f"rl-{uid}"
    vault_env.api("POST", f"sys/mounts/{mount}", {"type": "kv-v2"})
    vault_env.kv_put(f"{mount}/k", value="throttled")
    vault_env.api(
        "POST", f"sys/quotas/rate-limit/{mount}", {"path": f"{mount}/", "rate": 1, "interval": "1s"}
    )
    try:
        impatient = make_vault({"mount": mount, "kv_version": 2}, retry=NO_RETRY)
        impatient.fetch("k")
        with pytest.raises(UnavailableError, match="rate-limited"):
            impatient.fetch("k")

        caplog.set_level(logging.DEBUG, logger="envdrift.retry")
        patient = make_vault({"mount": mount, "kv_version": 2}, retry=RetryPolicy(retries=4))
        assert [patient.fetch("k").reveal() for _ in range(2)] == ["throttled"] * 2
        assert "rate-limited" in caplog.text
        assert "retrying in" in caplog.text
    finally:
        vault_env.api("DELETE", f"sys/quotas/rate-limit/{mount}")


def test_missing_secret_is_not_retried(
    flaky: FlakyVault, flaky_vault: Callable[..., HashicorpVault]
) -> None:
    flaky.failures[("GET", "gone")] = (404, None)
    with pytest.raises(NotFoundError):
        flaky_vault().fetch("gone")
    assert flaky.requests[("GET", "gone")] == 1
