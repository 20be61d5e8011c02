"""Local vault servers the tests (and the demo and benchmarks) start on free loopback ports.

Each server module exposes a context manager that starts the real server process, waits
until it answers, and stops it (waiting for the PID) on exit. Shared helpers live here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["free_port", "managed_process", "wait_for_http"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (and whose +1 was too)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with socket.socket() as probe:
            # Some servers (OpenBao) also bind port+1; keep that free as well.
            if probe.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port
    raise RuntimeError("no free port pair found")


def wait_for_http(
    url: str,
    *,
    timeout: float = 30.0,
    cafile: str | None = None,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``url`` until it answers at all (any HTTP status counts as up)."""
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(
                f"server exited with {proc.returncode} before answering {url}\n{tail}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2, context=context):
                return
        except urllib.error.HTTPError:
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def managed_process(
    argv: Sequence[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv`` (output to ``log``), yield it, and stop it for certain on exit."""
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
