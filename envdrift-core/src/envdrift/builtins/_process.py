"""Run one program without a shell, bounded in time and output: the ``command`` vault's engine.

The program gets its own process group (a new session on POSIX), so a timeout or Ctrl-C
kills it together with whatever it started, and it cannot prompt on envdrift's terminal.
Its output is read by threads with limits, so a program that prints without end costs at
most the limit in memory, and one that leaves a helper holding its pipes open cannot make
envdrift wait past the timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = ["Completed", "run"]

_CHUNK = 64 << 10
_SPACE = re.compile(rb"\s")
#: How often a wait looks at the run's cancel switch (Ctrl-C stops a program this fast).
_POLL = 0.1
#: How long the pipes may stay open after the program ended (a helper it left behind).
_DRAIN = 1.0


@dataclass(frozen=True)
class Completed:
    """How a run ended.

    Attributes:
        status: The exit status; negative for a signal (as ``subprocess`` reports it);
            ``None`` when envdrift stopped the program (see ``stopped``).
        stdout: What it printed, at most ``stdout_limit`` bytes (``overflow`` says more came).
        stderr: The end of what it printed on stderr.
        stopped: Why envdrift killed it: ``"timeout"``, ``"cancelled"``, ``"overflow"``,
            or ``""`` when it ended by itself.
    """

    status: int | None
    stdout: bytes
    stderr: bytes
    stopped: str = ""


class _PipeThread(threading.Thread):
    """A daemon thread serving one of the program's pipes."""

    def __init__(self, pipe: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe


class _Reader(_PipeThread):
    """Reads a pipe to its end, keeping the first ``limit`` bytes and calling
    ``on_overflow`` once when more come."""

    def __init__(self, pipe: IO[bytes], limit: int, on_overflow: Callable[[], None]) -> None:
        super().__init__(pipe)
        self._limit = limit
        self._on_overflow = on_overflow
        self.data = bytearray()

    def run(self) -> None:
        overflow = False
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.pipe.read1(_CHUNK):  # type: ignore[attr-defined]
                room = self._limit - len(self.data)
                if len(chunk) > room and not overflow:
                    overflow = True
                    self._on_overflow()
                self.data += chunk[: max(room, 0)]


class _TailReader(_PipeThread):
    """Reads a pipe to its end, keeping the last ``limit`` bytes (a program's stderr says
    what went wrong at its end)."""

    def __init__(self, pipe: IO[bytes], limit: int) -> None:
        super().__init__(pipe)
        self._limit = limit
        self.data = bytearray()

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.pipe.read1(_CHUNK):  # type: ignore[attr-defined]
                self.data += chunk
                excess = len(self.data) - self._limit
                if excess > 0:
                    # Start after a space: a cut never leaves the end of a key (too
                    # short to look like one, and so not masked) at the front.
                    space = _SPACE.search(self.data, excess)
                    del self.data[: space.end() if space else len(self.data)]


class _Writer(_PipeThread):
    """Writes ``data`` to the program's stdin and closes it (a program may not read it all)."""

    def __init__(self, pipe: IO[bytes], data: bytes) -> None:
        super().__init__(pipe)
        self._data = data

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.pipe.write(self._data)
        with contextlib.suppress(OSError, ValueError):
            self.pipe.close()


def run(
    argv: Sequence[str],
    *,
    executable: str | None = None,
    cwd: Path,
    timeout: float,
    stdin: bytes | None = None,
    stdout_limit: int,
    stderr_limit: int = 8 << 10,
    cancelled: Callable[[], bool] = lambda: False,
) -> Completed:
    """Run ``argv`` (no shell) and return how it ended.

    Args:
        argv: The program and its arguments.
        executable: The file to run, when ``argv[0]`` is only how the program is named.
        cwd: The working directory.
        timeout: Seconds the program may run before its process group is killed.
        stdin: Bytes for its standard input, which is then closed; ``None`` gives it no
            input at all (``/dev/null``).
        stdout_limit: The most stdout kept; more kills the program (``stopped="overflow"``).
        stderr_limit: The most stderr kept (its end); the rest is read and dropped.
        cancelled: Asked a few times a second; ``True`` kills the program (Ctrl-C).

    Raises:
        OSError: the program could not be started (``FileNotFoundError`` when it is missing,
            ``PermissionError`` when it is not executable).
    """
    proc = subprocess.Popen(
        list(argv),
        executable=executable,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    overflowed = threading.Event()
    out = _Reader(proc.stdout, stdout_limit, overflowed.set)
    err = _TailReader(proc.stderr, stderr_limit)
    threads: list[_PipeThread] = [out, err]
    if stdin is not None:
        assert proc.stdin is not None
        threads.append(_Writer(proc.stdin, stdin))
    for thread in threads:
        thread.start()
    stopped = ""
    try:
        stopped = _wait(proc, time.monotonic() + timeout, overflowed, cancelled)
    finally:
        if proc.returncode is None:  # stopped, or an exception (KeyboardInterrupt) here
            _kill_group(proc)
        # The pipes reach their end when the program and everything it started are gone;
        # a helper that outlives it (and its group) must not hold envdrift up.
        drained = time.monotonic() + _DRAIN
        for thread in threads:
            thread.join(max(0.0, drained - time.monotonic()))
            if not thread.is_alive():
                # A pipe still being read is left to its daemon thread: closing it would
                # wait for that read (the buffer's lock) and so for the helper.
                with contextlib.suppress(OSError):
                    thread.pipe.close()
    return Completed(
        status=None if stopped else proc.returncode,
        stdout=bytes(out.data),
        stderr=bytes(err.data),
        stopped=stopped,
    )


def _wait(
    proc: subprocess.Popen[bytes],
    end: float,
    overflowed: threading.Event,
    cancelled: Callable[[], bool],
) -> str:
    """Wait for ``proc`` to exit; return ``""``, or why it must be stopped."""
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return "timeout"
        try:
            proc.wait(min(_POLL, left))
        except subprocess.TimeoutExpired:
            pass
        else:
            return "overflow" if overflowed.is_set() else ""
        if overflowed.is_set():
            return "overflow"
        if cancelled():
            return "cancelled"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            killpg(proc.pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows has no process groups
        with contextlib.suppress(OSError):
            proc.kill()
    proc.wait()
