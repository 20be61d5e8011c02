"""Benchmark: whole-process ``envdrift encrypt``/``decrypt`` against the dotenvx CLI.

For files of 10 and 1,000 keys (``KEY_00001="value number 1 with some padding text"``),
each tool encrypts a fresh plaintext copy (no keys file yet: a key pair is created) and
decrypts in place a fresh copy of a file it encrypted itself. Runs alternate between the
tools; each figure is the median wall time of ``--runs`` runs (default 5) of the whole
process, from start to exit, after one warm-up run. Copying the input is not timed.

Targets (issue 3): envdrift at most 1/4 of dotenvx's time for 10 keys and 1/50 for
1,000 keys, for both operations.

Usage:
    .venv/bin/python benchmarks/crypto.py [--sizes 10 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVDRIFT = Path(sys.executable).with_name("envdrift")
DOTENVX = Path(
    os.environ.get("ENVDRIFT_DOTENVX") or ROOT / ".tools/dotenvx/node_modules/.bin/dotenvx"
)
TARGETS = {10: 4.0, 1000: 50.0}
FILE = ".env.bench"


def plaintext(keys: int) -> str:
    return "".join(
        f'KEY_{i:05d}="value number {i} with some padding text"\n' for i in range(1, keys + 1)
    )


def environment(home: Path) -> dict[str, str]:
    node = shutil.which("node")
    path = os.pathsep.join(p for p in (os.path.dirname(node or ""), "/usr/bin", "/bin") if p)
    return {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "DOTENVX_NO_ARMOR": "true",
        "DOTENVX_NO_NATIVE": "true",
        "DOTENVX_NO_1PASSWORD": "true",
        "DOTENVX_NO_BITWARDEN": "true",
    }


def command(tool: str, operation: str) -> list[str]:
    if tool == "envdrift":
        return [str(ENVDRIFT), operation, FILE]
    return [str(DOTENVX), operation, "-f", FILE]


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run ``argv``; return (wall seconds, CPU seconds of the process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def prepare(scratch: Path, tool: str, operation: str, keys: int, env: dict[str, str]) -> Path:
    """A fresh directory holding the input of one run (not timed)."""
    work = Path(tempfile.mkdtemp(dir=scratch))
    (work / FILE).write_text(plaintext(keys))
    if operation == "decrypt":
        source = scratch / f"encrypted-{tool}-{keys}"
        if not source.exists():
            source.mkdir()
            (source / FILE).write_text(plaintext(keys))
            timed(command(tool, "encrypt"), source, env)
        shutil.copy2(source / FILE, work / FILE)
        shutil.copy2(source / ".env.keys", work / ".env.keys")
    return work


def measure(
    scratch: Path, keys: int, operation: str, runs: int, env: dict[str, str]
) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {"envdrift": [], "dotenvx": []}
    for round_ in range(runs + 1):  # round 0 is the warm-up
        order = ("envdrift", "dotenvx") if round_ % 2 else ("dotenvx", "envdrift")
        for tool in order:
            work = prepare(scratch, tool, operation, keys, env)
            sample = timed(command(tool, operation), work, env)
            if operation == "encrypt":
                assert "encrypted:" in (work / FILE).read_text()
            else:
                assert "encrypted:" not in (work / FILE).read_text().split("# .env.bench", 1)[1]
            if round_:
                times[tool].append(sample)
            shutil.rmtree(work)
    return times


def _ms(wall: float, cpu: float) -> str:
    return f"{wall * 1000:.0f} ms ({cpu * 1000:.0f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if not DOTENVX.exists():
        raise SystemExit(f"dotenvx not found at {DOTENVX}; run scripts/bootstrap.sh")
    median: Callable[[list[float]], float] = statistics.median
    print(f"median of {args.runs} alternating runs, whole process: wall clock (CPU user+sys)")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{'operation':<10}{'keys':>6}{'envdrift':>20}{'dotenvx':>20}"
        f"{'ratio':>8}{'target':>8}{'cpu ratio':>11}"
    )
    failures = []
    with tempfile.TemporaryDirectory(prefix="envdrift-bench-crypto-") as tmp:
        scratch = Path(tmp)
        home = scratch / "home"
        home.mkdir()
        env = environment(home)
        for keys in args.sizes:
            for operation in ("encrypt", "decrypt"):
                times = measure(scratch, keys, operation, args.runs, env)
                ours = median([wall for wall, _ in times["envdrift"]])
                theirs = median([wall for wall, _ in times["dotenvx"]])
                ours_cpu = median([cpu for _, cpu in times["envdrift"]])
                theirs_cpu = median([cpu for _, cpu in times["dotenvx"]])
                ratio = theirs / ours
                target = TARGETS.get(keys)
                verdict = "" if target is None else f"{'≥' if ratio >= target else '<'}{target:g}x"
                if target is not None and ratio < target:
                    failures.append(f"{operation} {keys}")
                columns = f"{_ms(ours, ours_cpu):>20}{_ms(theirs, theirs_cpu):>20}"
                print(
                    f"{operation:<10}{keys:>6}{columns}"
                    f"{ratio:>7.1f}x{verdict:>8}{theirs_cpu / ours_cpu:>10.1f}x",
                    flush=True,
                )
    print("all targets met" if not failures else "targets missed: " + ", ".join(failures))


if __name__ == "__main__":
    main()
