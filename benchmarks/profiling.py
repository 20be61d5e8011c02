"""Where our time goes: one more run of ours under cProfile and under ``-X importtime``.

``compare.py --profile`` calls this after a scenario's timed runs (the measurements are
untouched) and keeps ``<bench-dir>/profiles/<id>.txt`` per scenario: the costliest calls
by cumulative time and the slowest imports. cProfile sees the main thread only: time
spent in a worker pool (sync's concurrent vault calls) shows as the main thread waiting.
"""

from __future__ import annotations

import io
import pstats
import re
import sys
from pathlib import Path

from benchmarks.harness import Invocation, Sample, Side, expect_success, run

__all__ = ["profile_side"]

TOP_CALLS = 25
TOP_IMPORTS = 20
# A line of -X importtime: "import time:  self [us] | cumulative | imported package".
_IMPORT_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)")


def profile_side(side: Side, scenario_id: str, folder: Path) -> Path:
    """Run ``side`` (ours) under both profilers and write the report; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = scenario_id.replace("/", "_")
    raw = folder / f"{stem}.prof"
    # The console script is run as `python -m envdrift`, which is the same entry point.
    raw.unlink(missing_ok=True)
    profiled = _rerun(side, ("-m", "cProfile", "-o", str(raw), "-m", "envdrift"))
    calls = io.StringIO()
    if raw.exists():
        stats = pstats.Stats(str(raw), stream=calls)
        stats.strip_dirs().sort_stats(pstats.SortKey.CUMULATIVE).print_stats(TOP_CALLS)
    else:  # `envdrift run` execs its command: cProfile never gets to write its figures
        calls.write("(none: the process replaced itself with the command it ran)")
    imported = _rerun(side, ("-X", "importtime", "-m", "envdrift"))

    report = folder / f"{stem}.txt"
    command = " ".join(["envdrift", *side.invocation.argv[1:]])
    report.write_text(
        f"# {scenario_id}: {command}\n"
        f"# under cProfile {profiled.seconds:.3f} s; under -X importtime "
        f"{imported.seconds:.3f} s (wall, whole process)\n\n"
        f"## The {TOP_CALLS} costliest calls (cumulative, main thread)\n"
        f"{calls.getvalue().strip()}\n\n"
        f"## The {TOP_IMPORTS} slowest top-level imports (cumulative)\n"
        f"{_slowest_imports(imported.stderr)}\n",
        encoding="utf-8",
    )
    return report


def _rerun(side: Side, python_args: tuple[str, ...]) -> Sample:
    side.reset()
    invocation = side.invocation
    argv = (sys.executable, *python_args, *invocation.argv[1:])
    sample = run(Invocation(argv, invocation.cwd, invocation.env))
    expect_success(sample)
    side.check(sample)
    return sample


def _slowest_imports(stderr: str) -> str:
    """The top-level imports (no parent package being imported) by cumulative time."""
    rows = []
    for line in stderr.splitlines():
        found = _IMPORT_LINE.match(line)
        if found and len(found.group(3)) <= 1:  # one space: imported by the program itself
            rows.append((int(found.group(2)), found.group(4)))
    rows.sort(reverse=True)
    return "\n".join(f"{micros / 1000:9.1f} ms  {name}" for micros, name in rows[:TOP_IMPORTS])
