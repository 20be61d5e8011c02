"""A loopback TCP proxy that adds latency and injects faults in front of a vault server.

Network latency and flaky vaults are part of the real job; benchmarks and resilience
tests put this proxy between envdrift and a local server. It works at the TCP level, so
the client and server speak their real protocol (HTTP or TLS) through it unchanged.

* ``delay``: every request waits this long before it is forwarded (one delay per
  request: a chunk from the client counts as a new request when the server has answered
  since the client last sent something).
* ``Faults``: per request, with the given probabilities, answer a canned HTTP error
  (plain HTTP only), reset the connection, or never answer (the request is swallowed).
  An error's body can be the service's own throttling answer (``error_bodies``), e.g.
  AWS's HTTP 400 ``ThrottlingException``; ``only_if`` limits faults to requests whose
  first bytes contain a marker (a Vault path, say).

Use it as ``with tcp_proxy("127.0.0.1", port, delay=0.025) as listen_port: ...`` or,
for statistics, ``with TcpProxy(...) as proxy: proxy.port, proxy.stats``. Standalone:
``python -m tests.servers.proxy --upstream 127.0.0.1:8200 --delay 0.025``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType

__all__ = ["Faults", "ProxyStats", "TcpProxy", "tcp_proxy"]


@dataclass(frozen=True)
class Faults:
    """Per-request fault probabilities (each in 0..1, checked in this order).

    Attributes:
        error_rate: Answer with an HTTP error from ``error_statuses`` (HTTP only).
        reset_rate: Reset the connection (RST) instead of forwarding.
        hang_rate: Swallow the request; the connection stays open and silent.
        error_statuses: Statuses to pick from for injected errors.
        retry_after: Seconds to put in a ``Retry-After`` header of injected errors.
        seed: Seed for a reproducible fault sequence.
        error_bodies: The body to send with a status (default: a generic JSON message).
        only_if: Inject faults only into requests whose first chunk contains this
            (the request line and headers, e.g. ``b"/v1/secret/data/broken"``).
    """

    error_rate: float = 0.0
    reset_rate: float = 0.0
    hang_rate: float = 0.0
    error_statuses: tuple[int, ...] = (429, 500, 503)
    retry_after: float | None = None
    seed: int | None = None
    error_bodies: Mapping[int, bytes] = field(default_factory=dict)
    only_if: bytes | None = None


@dataclass
class ProxyStats:
    """What the proxy did; read after (or during) a run."""

    connections: int = 0
    requests: int = 0
    errors: int = 0
    resets: int = 0
    hangs: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def injected(self) -> int:
        """Faults injected so far: errors answered, connections reset, requests hung."""
        return self.errors + self.resets + self.hangs


_REASONS = {
    400: "Bad Request",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class TcpProxy:
    """The proxy itself; a context manager that runs it on a background thread."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        delay: float = 0.0,
        faults: Faults | None = None,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.delay = delay
        self.faults = faults or Faults()
        self.stats = ProxyStats()
        self._random = random.Random(self.faults.seed)
        self._listen = (listen_host, listen_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.port = future.result(timeout=10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handle, *self._listen)
        return int(self._server.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            _abort(client_w)
            self._tasks.discard(task)
            return
        # True when the next client chunk starts a new request.
        state = {"new_request": True}
        pumps = [
            asyncio.create_task(self._client_to_upstream(client_r, client_w, up_w, state)),
            asyncio.create_task(self._upstream_to_client(up_r, client_w, state)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for pump in pumps:
                pump.cancel()
            # Retrieve every outcome so that no "exception never retrieved" noise remains.
            await asyncio.gather(*pumps, return_exceptions=True)
            for writer in (client_w, up_w):
                with contextlib.suppress(Exception):
                    writer.close()
            self._tasks.discard(task)

    async def _client_to_upstream(
        self,
        client_r: asyncio.StreamReader,
        client_w: asyncio.StreamWriter,
        up_w: asyncio.StreamWriter,
        state: dict[str, bool],
    ) -> None:
        while chunk := await client_r.read(65536):
            if state["new_request"]:
                state["new_request"] = False
                self.stats.requests += 1
                if self.delay:
                    await asyncio.sleep(self.delay)
                if await self._inject(client_r, client_w, chunk):
                    return
            up_w.write(chunk)
            await up_w.drain()
        with contextlib.suppress(OSError):
            up_w.write_eof()

    async def _upstream_to_client(
        self, up_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, state: dict[str, bool]
    ) -> None:
        while chunk := await up_r.read(65536):
            state["new_request"] = True
            client_w.write(chunk)
            await client_w.drain()
        client_w.close()

    async def _inject(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, chunk: bytes
    ) -> bool:
        """Maybe inject a fault for this request; ``True`` when the request was consumed."""
        faults = self.faults
        if faults.only_if is not None and faults.only_if not in chunk:
            return False
        draw = self._random.random()
        if draw < faults.error_rate:
            status = self._random.choice(faults.error_statuses)
            self.stats.errors += 1
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            body = faults.error_bodies.get(status, b'{"message":"injected by envdrift test proxy"}')
            retry = (
                f"Retry-After: {faults.retry_after:g}\r\n" if faults.retry_after is not None else ""
            )
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"{retry}Connection: close\r\n\r\n"
            )
            client_w.write(head.encode() + body)
            await client_w.drain()
            client_w.close()
            raise ConnectionResetError
        draw -= faults.error_rate
        if draw < faults.reset_rate:
            self.stats.resets += 1
            _abort(client_w)
            raise ConnectionResetError
        draw -= faults.reset_rate
        if draw < faults.hang_rate:
            self.stats.hangs += 1
            # Keep the connection open and silent until the client gives up.
            while await client_r.read(65536):
                pass
            raise _Hang
        return False


class _Hang(Exception):
    pass


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN, as a crashed peer or middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


@contextlib.contextmanager
def tcp_proxy(
    upstream_host: str,
    upstream_port: int,
    *,
    delay: float = 0.0,
    faults: Faults | None = None,
) -> Iterator[int]:
    """Run a proxy to ``upstream_host:upstream_port`` and yield its listen port."""
    with TcpProxy(upstream_host, upstream_port, delay=delay, faults=faults) as proxy:
        yield proxy.port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the real server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--reset-rate", type=float, default=0.0)
    parser.add_argument("--hang-rate", type=float, default=0.0)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    faults = Faults(
        error_rate=args.error_rate, reset_rate=args.reset_rate, hang_rate=args.hang_rate
    )
    with TcpProxy(host, int(port), delay=args.delay, faults=faults, listen_port=args.port) as proxy:
        print(f"listening on 127.0.0.1:{proxy.port}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
