"""What the per-backend benchmarks (``aws.py``, ``azure.py``, ``hashicorp.py``) share.

Each seeds secrets on its local server, puts the delaying proxy in front of it, then
times the backend's ``fetch_many`` and the real ``envdrift sync`` in a fresh process on
a scratch monorepo of one service per secret.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers.proxy import TcpProxy

SUMMARY_TIME = re.compile(r"\((\d+\.\d+) s\)$")
#: The size the issues set their targets for.
TARGET_MAPPINGS = 200


def parse_options(doc: str) -> argparse.Namespace:
    """``--mappings``, ``--delay-ms`` and ``--runs``, described by the script's ``doc``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--mappings", type=int, nargs="+", default=[10, TARGET_MAPPINGS])
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args()


@contextlib.contextmanager
def scratch_folder(backend: str) -> Iterator[Path]:
    """A scratch folder (with an empty ``home``), removed afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix=f"envdrift-bench-{backend}-"))
    (scratch / "home").mkdir()
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def key_for(backend: str, index: int) -> str:
    """The private key of service ``index`` in ``backend``'s benchmark."""
    return hashlib.sha256(f"{backend}-bench-{index}".encode()).hexdigest()


def make_project(root: Path, names: Sequence[str], vault_lines: Sequence[str]) -> None:
    """A monorepo at ``root``: one service per secret, ``[vault]`` holding ``vault_lines``."""
    lines = ["[vault]", *vault_lines]
    for index, name in enumerate(names):
        (root / "services" / f"svc-{index:03d}").mkdir(parents=True)
        lines += [
            "",
            "[[vault.sync.mappings]]",
            f'secret_name = "{name}"',
            f'folder_path = "services/svc-{index:03d}"',
        ]
    (root / "envdrift.toml").write_text("\n".join(lines) + "\n")


def bench_env(home: Path, drop: tuple[str, ...], **settings: str) -> dict[str, str]:
    """This process's environment without variables starting with ``drop``, plus ``settings``.

    ``HOME`` is a scratch folder (no credentials of the person running the benchmark),
    and bytecode is written, as on a user's machine. The result is also made this
    process's environment, for the in-process backend measurements.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(settings, HOME=str(home))
    os.environ.clear()
    os.environ.update(env)
    return env


@dataclass(frozen=True)
class Timed:
    """One measured piece of work: wall seconds, what the proxy saw, what it returned."""

    seconds: float
    requests: int
    connections: int
    result: Any


def timed(proxy: TcpProxy, work: Callable[[], Any]) -> Timed:
    """Run ``work`` and measure it."""
    requests, connections = proxy.stats.requests, proxy.stats.connections
    started = time.perf_counter()
    result = work()
    return Timed(
        time.perf_counter() - started,
        proxy.stats.requests - requests,
        proxy.stats.connections - connections,
        result,
    )


def check_all(results: Mapping[str, Any], names: Sequence[str], backend: str) -> None:
    """Stop unless every secret came back as its key: speed without the job is no figure."""
    for index, name in enumerate(names):
        value = results[name]
        if isinstance(value, Exception) or value.reveal() != key_for(backend, index):
            raise SystemExit(f"wrong result for {name}: {value!r}")


def figures(times: Sequence[float]) -> str:
    return f"median {statistics.median(times):6.3f} s  min {min(times):6.3f}  max {max(times):6.3f}"


def shown(counts: Iterable[int]) -> str:
    """The distinct counts seen, e.g. ``10/11``."""
    return "/".join(str(n) for n in sorted(set(counts)))


def vault_row(
    label: str,
    times: Sequence[float],
    requests: Iterable[int],
    connections: Iterable[int] | None = None,
) -> str:
    """A report line for backend measurements: times, requests (and connections) seen."""
    line = f"  {label:<22} {figures(times)}  requests {shown(requests)}"
    return line if connections is None else f"{line}  connections {shown(connections)}"


def verdict(what: str, median: float, target: float) -> str:
    """The line comparing ``median`` with the issue's ``target`` (seconds)."""
    outcome = "ok" if median < target else "OVER TARGET"
    ratio = median / target
    return f"  target: {what} < {target:g} s: {median:.3f} s = {ratio:.2f} of target ({outcome})"


@dataclass(frozen=True)
class SyncRun:
    """One ``envdrift sync`` process: wall, requests, the engine's own time, CPU.

    CPU is user + system time of the process (and of the test server, when it is a
    process of ours sharing the machine's cores): on a busy machine the wall time
    includes waiting for a core, the CPU time does not.
    """

    wall: float
    requests: int
    engine: float
    cpu: float
    server_cpu: float


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_sync(
    proxy: TcpProxy,
    project: Path,
    env: Mapping[str, str],
    *,
    server_pid: int | None = None,
    quiet: bool = False,
) -> SyncRun:
    """Run ``envdrift sync --ci`` in ``project``; stop on failure (or any stderr if ``quiet``)."""
    envdrift = Path(sys.executable).with_name("envdrift")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = process_cpu(server_pid) if server_pid else 0.0
    run = timed(
        proxy,
        lambda: subprocess.run(
            [str(envdrift), "sync", "--ci"],
            cwd=project,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        ),
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done: subprocess.CompletedProcess[str] = run.result
    if done.returncode != 0 or (quiet and done.stderr.strip()):
        raise SystemExit(f"envdrift sync failed or warned:\n{done.stdout}{done.stderr}")
    match = SUMMARY_TIME.search(done.stdout.strip().splitlines()[-1])
    return SyncRun(
        run.seconds,
        run.requests,
        float(match.group(1)) if match else float("nan"),
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        (process_cpu(server_pid) - served) if server_pid else 0.0,
    )


def bench_sync(
    proxy: TcpProxy,
    names: Sequence[str],
    runs: int,
    scratch: Path,
    env: Mapping[str, str],
    write_project: Callable[[Path], None],
    *,
    server_pid: int | None = None,
    quiet: bool = False,
    target: float | None = None,
) -> list[str]:
    """Time ``envdrift sync`` on fresh copies of one project: a first run, then a re-run.

    Returns the report lines; with ``target`` (seconds), the first run's median wall
    time is compared with it at ``TARGET_MAPPINGS`` mappings.
    """
    template = scratch / f"template-{len(names)}"
    write_project(template)
    first: list[SyncRun] = []
    again: list[SyncRun] = []
    for attempt in range(runs + 1):  # the first pass only warms caches and bytecode
        project = scratch / f"run-{len(names)}-{attempt}"
        shutil.copytree(template, project)
        created = run_sync(proxy, project, env, server_pid=server_pid, quiet=quiet)
        unchanged = run_sync(proxy, project, env, server_pid=server_pid, quiet=quiet)
        if attempt:
            first.append(created)
            again.append(unchanged)

    def row(label: str, samples: list[SyncRun]) -> str:
        engine = statistics.median(s.engine for s in samples)
        cpu = f"CPU {statistics.median(s.cpu for s in samples):5.2f} s"
        if server_pid:
            cpu = (
                f"CPU envdrift {statistics.median(s.cpu for s in samples):4.2f} s"
                f" + server {statistics.median(s.server_cpu for s in samples):4.2f} s"
            )
        return (
            f"  {label:<22} {figures([s.wall for s in samples])}  engine {engine:5.2f} s  "
            f"{cpu}  requests {shown(s.requests for s in samples)}"
        )

    lines = [row("envdrift sync (create)", first), row("envdrift sync (re-run)", again)]
    if target is not None and len(names) == TARGET_MAPPINGS:
        median = statistics.median(s.wall for s in first)
        lines.append(verdict(f"sync of {len(names)} mappings, wall", median, target))
    return lines


def report_sizes(
    options: argparse.Namespace,
    seed: Callable[[int], list[str]],
    backend: Callable[[list[str]], list[str]],
    sync: Callable[[list[str]], list[str]],
) -> None:
    """Print, for each size in ``--mappings``, the backend's lines and the sync lines.

    ``seed(count)`` stores that many secrets and returns their names; ``backend`` and
    ``sync`` measure those secrets and return report lines.
    """
    for count in options.mappings:
        names = seed(count)
        print(f"\n{count} mappings")
        print("\n".join([*backend(names), *sync(names)]))
    print(one_at_a_time(options.mappings, options.delay_ms))


def one_at_a_time(mappings: Sequence[int], delay_ms: float) -> str:
    """What the existing envdrift's one-secret-at-a-time loop needs at least."""
    most = max(mappings)
    return (
        f"\none secret at a time (the existing envdrift) needs at least "
        f"{most} x {delay_ms:g} ms = {delay_ms / 1000 * most:.1f} s for {most} mappings"
    )
