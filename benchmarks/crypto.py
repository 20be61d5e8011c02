"""Benchmark: whole-process ``envdrift encrypt``/``decrypt`` against the dotenvx CLI.

For files of 10 and 1,000 keys (``KEY_00001="value number 1 with some padding text"``),
each tool encrypts a fresh plaintext copy (no keys file yet: a key pair is created) and
decrypts in place a fresh encrypted copy. Runs alternate between the tools; each figure
is the median wall time of ``--runs`` runs (default 5) of the whole process, after one
warm-up run, with the CPU time of the process tree beside it. Preparing the input is not
timed; after every run a check proves every value was encrypted (or decrypted) right.

This is the ``encrypt``/``decrypt`` part of the one harness, ``benchmarks/compare.py``
(whose report, ``docs/benchmarks.md``, carries the same rows), printed against
issue 3's targets: envdrift at most 1/4 of dotenvx's time for 10 keys and 1/50 for
1,000 keys, for both operations.

Usage:
    .venv/bin/python benchmarks/crypto.py [--sizes 10 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import compare
from benchmarks.report import format_seconds
from benchmarks.tools import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(compare.CRYPTO_SIZES))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    chosen = [
        compare.crypto_scenario(operation, size)
        for size in args.sizes
        for operation in ("encrypt", "decrypt")
    ]
    print(f"median of {args.runs} alternating runs, whole process: wall clock (CPU user+sys)")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    # Only dotenvx competes here: envdrift 11.1.1 need not be installed.
    with compare.bench_session(REPO_ROOT / ".bench", ours_only=True, log=_progress) as bench:
        outcomes = compare.run_scenarios(bench, chosen, runs=args.runs, warmups=1, log=_progress)

    print(f"{'operation':<10}{'keys':>6}{'envdrift':>22}{'dotenvx':>22}{'ours/theirs':>13}  target")
    missed = []
    for outcome in outcomes:
        operation, size = outcome.scenario.id.split("/")
        if outcome.status != "ok":
            print(f"{operation:<10}{size:>6}  {outcome.status}: {outcome.reason}")
            missed.append(outcome.scenario.id)
            continue
        ours, dotenvx = outcome.results
        ratio = ours.stats.median / dotenvx.stats.median
        target = outcome.scenario.target
        verdict = ""
        if target is not None:
            verdict = f"{'met' if ratio <= target else 'MISSED'} (<= {target:g})"
            if ratio > target:
                missed.append(outcome.scenario.id)
        cells = [
            f"{format_seconds(r.stats.median)} ({format_seconds(r.cpu_median)})"
            for r in (ours, dotenvx)
        ]
        print(f"{operation:<10}{size:>6}{cells[0]:>22}{cells[1]:>22}{ratio:>13.3f}  {verdict}")
    print("all targets met" if not missed else "targets missed: " + ", ".join(missed))
    return 1 if missed else 0


def _progress(line: str) -> None:
    """Progress goes to stderr; the table above is the result."""
    print(f"bench: {line}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
