"""Running, timing and measuring one command; alternating the tools of a scenario.

Time is the wall clock of the whole process, fork to reaped (started by ``_spawn.py``,
which says why), with the CPU time of the tree beside it. Memory is the larger of two
lower bounds of the tree's peak: ``wait4``'s largest single process (every run), and the
sum over the run's session sampled every 10 ms (warm-up runs only: sampling costs CPU),
which catches a Python parent and its dotenvx child alive at once.

``Scenario`` and ``Outcome`` live here, below both ``compare`` (which makes them) and
``report`` (which writes them out).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
_SPAWN = Path(__file__).with_name("_spawn.py")


@dataclass(frozen=True)
class Invocation:
    """One command line, with the directory and the whole environment it runs in."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]


@dataclass(frozen=True)
class Sample:
    """What one run took."""

    seconds: float
    cpu_seconds: float
    max_rss_kib: int
    tree_rss_kib: int
    returncode: int
    stdout: str
    stderr: str
    #: Requests the vault's proxy saw during the run (``None``: no vault involved).
    requests: int | None = None

    @property
    def peak_kib(self) -> int:
        return max(self.max_rss_kib, self.tree_rss_kib)


class RunFailed(Exception):
    """A run did not do its job (wrong exit status or wrong result); the figures are void."""


def run(invocation: Invocation, *, sample_tree: bool = False, timeout: float = 600) -> Sample:
    """Run ``invocation`` to completion and measure it (see the module docstring)."""
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            spawner = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_SPAWN), str(write_fd), *invocation.argv],
                cwd=invocation.cwd,
                env=dict(invocation.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        sampler = _TreeSampler(spawner.pid) if sample_tree else None
        timer = threading.Timer(timeout, _kill_group, (spawner.pid,))
        timer.start()
        try:
            with os.fdopen(read_fd, "rb") as pipe:
                report = pipe.read()
            spawner.wait()
        finally:
            timer.cancel()
            # Grandchildren left behind would skew the next run; the session is ours alone.
            _kill_group(spawner.pid)
        tree = sampler.stop() if sampler else 0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if not report:  # killed (timeout) before the command was reaped
        return Sample(timeout, 0.0, 0, tree, -signal.SIGKILL, stdout, stderr)
    figures = json.loads(report)
    return Sample(
        seconds=figures["seconds"],
        cpu_seconds=figures["cpu_seconds"],
        max_rss_kib=figures["max_rss_kib"],
        tree_rss_kib=tree,
        returncode=figures["returncode"],
        stdout=stdout,
        stderr=stderr,
    )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _TreeSampler:
    """Sum the RSS of every process in session ``sid`` until stopped; keep the maximum."""

    def __init__(self, sid: int) -> None:
        self.sid = sid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kib

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self._tree_kib())
            self._stop.wait(0.01)

    def _tree_kib(self) -> int:
        total = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            # Fields after the parenthesised command name: state ppid pgrp session …
            fields = stat[stat.rfind(b")") + 2 :].split()
            # The session leader is the spawner (``_spawn.py``), not part of the command.
            if int(fields[3]) == self.sid and int(entry.name) != self.sid:
                total += int(fields[21]) * _PAGE_KIB
        return total


@dataclass
class Side:
    """One tool's part in a scenario.

    Attributes:
        label: The tool, as the report names it.
        invocation: The command that is timed.
        reset: Untimed, before every run: put the files (and vault) in the start state.
        check: Untimed, after every run: raise ``RunFailed`` unless the run did its job.
        note: What this side runs, for the report (defaults to the command).
        requests: Reads the vault proxy's request count, when a vault is involved.
    """

    label: str
    invocation: Invocation
    reset: Callable[[], None] = lambda: None
    check: Callable[[Sample], None] = lambda sample: None
    note: str = ""
    requests: Callable[[], int] | None = None


@dataclass
class SideResult:
    """The counted runs of one side."""

    side: Side
    samples: list[Sample] = field(default_factory=list)
    warmups: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> tuple[float, float, float]:
        """Median, minimum and maximum wall time."""
        times = [sample.seconds for sample in self.samples]
        return statistics.median(times), min(times), max(times)

    @property
    def cpu_median(self) -> float:
        """CPU seconds (user + system, whole tree): unlike wall time, not inflated by
        waiting for a core on a busy machine."""
        return statistics.median(sample.cpu_seconds for sample in self.samples)

    @property
    def peak_kib(self) -> int:
        return max(sample.peak_kib for sample in [*self.samples, *self.warmups])

    @property
    def requests_median(self) -> float | None:
        counts = [s.requests for s in self.samples if s.requests is not None]
        return statistics.median(counts) if counts else None


def expect_success(sample: Sample) -> None:
    """The default first check: exit status 0."""
    if sample.returncode != 0:
        tail = (sample.stderr.strip() or sample.stdout.strip())[-400:]
        raise RunFailed(f"exit status {sample.returncode}: {tail}")


def alternate(
    sides: Sequence[Side],
    *,
    runs: int,
    warmups: int = 1,
    timeout: float = 600,
) -> list[SideResult]:
    """Run the sides in turn (A B A B …): ``warmups`` uncounted rounds, then ``runs``.

    Alternating spreads slow drifts of a shared machine (another job starting, caches
    warming) over every tool alike, where "all of A, then all of B" would hand them to one.
    """
    results = [SideResult(side) for side in sides]
    for round_number in range(warmups + runs):
        warm = round_number < warmups
        for result in results:
            side = result.side
            side.reset()
            before = side.requests() if side.requests else None
            sample = run(side.invocation, sample_tree=warm, timeout=timeout)
            if side.requests is not None and before is not None:
                sample = dataclasses.replace(sample, requests=side.requests() - before)
            expect_success(sample)
            side.check(sample)
            (result.warmups if warm else result.samples).append(sample)
    return results


@dataclass(frozen=True)
class Scenario:
    """One row of the report.

    Attributes:
        id: Stable name, matched by ``--only`` (``sync/aws/25ms/200/first``).
        group: The report section.
        title: The row's label within its section.
        prepare: Builds the sides (ours first) from the run's ``compare.Bench``.
        target: The issue's target for ours/theirs, if it sets one.
        quick: Part of ``--quick``.
    """

    id: str
    group: str
    title: str
    prepare: Callable[[Any], list[Side]]
    target: float | None = None
    quick: bool = False


@dataclass
class Outcome:
    """What happened to one scenario: ``ok`` (with results) or ``failed`` (with a reason)."""

    scenario: Scenario
    status: str
    reason: str = ""
    results: list[SideResult] = field(default_factory=list)
