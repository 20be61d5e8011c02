"""Benchmark: ``envdrift sync`` of 200 mappings against a vault whose every call takes 25 ms.

The existing envdrift fetches one secret at a time, so 200 mappings cost at least
200 x 25 ms = 5 s. The target here is under 1 s of wall time for the whole process, and
no-op re-runs no slower than first runs.

Each run is a fresh Python process running the real CLI (``envdrift sync``), with every
installed plugin loaded as usual plus one more: an in-process ``latency`` vault (the
``files`` vault with a sleep before each fetch), registered through
``PluginRegistry(plugins=[...])`` exactly as a third-party plugin's hooks would be.

Usage:
    .venv/bin/python benchmarks/sync.py [--mappings 200] [--latency-ms 25] [--runs 5]
                                        [--jobs N] [--serial]

``--serial`` also measures ``--jobs 1`` once: the one-at-a-time baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TARGET_SECONDS = 1.0

# The child process: the real CLI with one extra plugin in a fresh registry.
LAUNCHER = textwrap.dedent(
    """
    import sys, time
    from envdrift import hookimpl, PluginRegistry
    from envdrift.builtins.files import FilesVault

    class LatencyVault(FilesVault):
        name = "latency"
        description = "the files vault, plus a fixed delay per call (benchmark)"
        option_keys = frozenset({"path", "latency_ms"})

        def fetch(self, name):
            time.sleep(self.options.get("latency_ms", 25) / 1000)
            return super().fetch(name)

    class Plugin:
        @hookimpl
        def envdrift_register_vaults(self):
            return [LatencyVault]

    from envdrift.cli import cli
    registry = PluginRegistry(plugins=[Plugin()])
    cli.main(sys.argv[1:], prog_name="envdrift", obj={"registry": registry})
    """
)


def make_project(root: Path, mappings: int, latency_ms: int) -> None:
    """Write envdrift.toml, one secret per mapping and one folder per service."""
    lines = [
        "[vault]",
        'provider = "latency"',
        "",
        "[vault.latency]",
        'path = "secrets"',
        f"latency_ms = {latency_ms}",
    ]
    (root / "secrets").mkdir(parents=True)
    for index in range(mappings):
        key = hashlib.sha256(f"bench-{index}".encode()).hexdigest()
        (root / "secrets" / f"svc-{index}-key").write_text(key)
        (root / "services" / f"svc-{index}").mkdir(parents=True)
        lines += [
            "",
            "[[vault.sync.mappings]]",
            f'secret_name = "svc-{index}-key"',
            f'folder_path = "services/svc-{index}"',
        ]
    (root / "envdrift.toml").write_text("\n".join(lines) + "\n")


# An installed envdrift has its bytecode compiled; our editable checkout gets the same
# once the warm-up run has written it, unless the environment forbids writing it.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

#: CPU seconds (user + system) of each run, next to its wall time: on a busy machine the
#: wall time includes waiting for a core, the CPU time does not.
CPU: dict[str, list[float]] = {}


def run(root: Path, *args: str, label: str = "") -> tuple[float, str]:
    """Run ``envdrift sync ARGS`` in ``root``; return (wall seconds, summary line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, "sync", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=CHILD_ENV,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(label, []).append(cpu)
    if done.returncode != 0:
        raise SystemExit(f"envdrift sync {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return elapsed, done.stdout.strip().splitlines()[-1]


def describe(name: str, times: list[float]) -> str:
    median = statistics.median(times)
    verdict = "ok" if median < TARGET_SECONDS else "OVER TARGET"
    cpu = statistics.median(CPU[name])
    return (
        f"{name:<14} wall median {median:6.3f} s  min {min(times):6.3f}  max {max(times):6.3f}"
        f"  ({median / TARGET_SECONDS:4.2f} of the {TARGET_SECONDS:.0f} s target: {verdict})"
        f"  CPU {cpu:5.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mappings", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None, help="default: envdrift's own")
    parser.add_argument("--serial", action="store_true", help="also measure --jobs 1 once")
    options = parser.parse_args()
    jobs = ["--jobs", str(options.jobs)] if options.jobs else []

    scratch = Path(tempfile.mkdtemp(prefix="envdrift-bench-sync-"))
    try:
        template = scratch / "template"
        make_project(template, options.mappings, options.latency_ms)
        first: list[float] = []
        rerun: list[float] = []
        verify: list[float] = []
        summaries: set[str] = set()
        run(_copy(template, scratch / "warmup"), *jobs)  # warm file cache and bytecode
        load_before = os.getloadavg()
        for attempt in range(options.runs):
            project = _copy(template, scratch / f"run-{attempt}")
            seconds, summary = run(project, *jobs, label="first run")
            first.append(seconds)
            summaries.add(summary.split(" (")[0])
            seconds, summary = run(project, *jobs, label="no-op re-run")
            rerun.append(seconds)
            summaries.add(summary.split(" (")[0])
            verify.append(run(project, "--verify", *jobs, label="--verify")[0])
        baseline = options.mappings * options.latency_ms / 1000
        cpus = os.cpu_count()
        print(
            f"envdrift sync: {options.mappings} mappings, {options.latency_ms} ms per vault call, "
            f"{options.runs} runs each, whole process (Python {sys.version.split()[0]}, "
            f"{cpus} CPUs)"
        )
        load = ", ".join(f"{x:.1f}" for x in load_before)
        print(f"results: {'; '.join(sorted(summaries))}; load average at start: {load}")
        print(describe("first run", first))
        print(describe("no-op re-run", rerun))
        print(describe("--verify", verify))
        ratio = statistics.median(rerun) / statistics.median(first)
        print(f"re-run / first run: {ratio:.2f} (target: no slower, i.e. <= 1.0 within noise)")
        print(
            f"one secret at a time would need at least {baseline:.1f} s of vault time; "
            f"first run is {baseline / statistics.median(first):.1f}x faster than that floor"
        )
        if options.serial:
            serial, _ = run(_copy(template, scratch / "serial"), "--jobs", "1")
            print(f"--jobs 1 (one at a time), one run: {serial:.3f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


if __name__ == "__main__":
    main()
