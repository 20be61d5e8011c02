"""The report of a harness run: ``docs/benchmarks.md`` (Markdown) and raw figures (JSON)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import Outcome, SideResult
from benchmarks.tools import Tool

#: Other processes using more than this share of the machine make the figures provisional.
OTHERS_CPU_LIMIT = 0.10


@dataclass(frozen=True)
class Meta:
    """How the run was made."""

    command: str
    tools: Sequence[Tool]
    servers: Sequence[str]
    runs: int
    warmups: int
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    #: The share of the machine's CPU that processes other than the benchmark's own
    #: (harness, tools, vault servers) used during the run.
    others_cpu: float
    date: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M %Z"))


def format_seconds(seconds: float) -> str:
    """``12.3 ms``, ``456 ms`` or ``1.23 s`` (``-4.2 ms`` for a negative difference)."""
    if seconds < 0:
        return "-" + format_seconds(-seconds)
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def _spread(result: SideResult) -> str:
    median, low, high = (format_seconds(value) for value in result.seconds)
    return f"{median} ({low}-{high})"


def _ratio(results: Sequence[SideResult]) -> float | None:
    if len(results) < 2:
        return None
    return results[0].seconds[0] / results[1].seconds[0]


def summary_line(results: Sequence[SideResult]) -> str:
    """One line for the progress log."""
    parts = []
    for r in results:
        part = f"{r.side.label} {_spread(r)}, CPU {format_seconds(r.cpu_median)}"
        part += f", peak {_mib(r.peak_kib)}"
        if r.requests_median is not None:
            count = r.requests_median
            part += f", {count:g} request{'' if count == 1 else 's'}"
        parts.append(part)
    ratio = _ratio(results)
    if ratio is not None:
        parts.append(f"ratio {ratio:.3f}")
    return " | ".join(parts)


def _machine() -> list[tuple[str, str]]:
    model, memory = "?", "?"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        model = found.group(1).strip() if found else model
        meminfo = Path("/proc/meminfo").read_text()
        total = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
        memory = f"{int(total.group(1)) / 1024**2:.0f} GiB" if total else memory
    except OSError:
        pass
    try:
        node = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=False, timeout=30
        ).stdout.strip()
    except OSError:
        node = "not installed"
    return [
        ("CPU", f"{model}, {os.cpu_count()} cores"),
        ("Memory", memory),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("Node.js (runs dotenvx)", node or "?"),
    ]


def _table(outcomes: Sequence[Outcome]) -> list[str]:
    theirs_labels = sorted({o.results[1].side.label for o in outcomes if len(o.results) > 1})
    lines = []
    if theirs_labels:
        lines += [f"*theirs* is {' / '.join(theirs_labels)}.", ""]
    lines += [
        "| scenario | ours | theirs | ours/theirs | target "
        "| CPU ours | CPU theirs | peak RSS ours | peak RSS theirs | vault requests |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for outcome in outcomes:
        scenario = outcome.scenario
        target = f"≤ {scenario.target:g}" if scenario.target is not None else ""
        if outcome.status != "ok":
            reason = outcome.reason.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {scenario.title} | **failed**: {reason} | | | {target} | | | | | |")
            continue
        results = outcome.results
        ours = results[0]
        theirs = results[1] if len(results) > 1 else None
        ratio = _ratio(results)
        verdict = ""
        if ratio is not None and scenario.target is not None:
            verdict = " ✓" if ratio <= scenario.target else " ✗"
        lines.append(
            "| "
            + " | ".join(
                [
                    scenario.title,
                    _spread(ours),
                    _spread(theirs) if theirs else "-",
                    f"{ratio:.3f}" if ratio is not None else "-",
                    target + verdict,
                    format_seconds(ours.cpu_median),
                    format_seconds(theirs.cpu_median) if theirs else "-",
                    _mib(ours.peak_kib),
                    _mib(theirs.peak_kib) if theirs else "-",
                    _requests(results),
                ]
            )
            + " |"
        )
    return lines


def _requests(results: Sequence[SideResult]) -> str:
    counts = [r.requests_median for r in results]
    if all(count is None for count in counts):
        return ""
    return " / ".join("-" if count is None else f"{count:g}" for count in counts)


def _scaling(outcomes: Sequence[Outcome]) -> list[str]:
    """Ours, first run of sync, by size: how the cost grows."""
    series: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for outcome in outcomes:
        parts = outcome.scenario.id.split("/")
        if outcome.status != "ok":
            continue
        if not (parts[0] == "scaling" or (parts[0] == "sync" and parts[4] == "first")):
            continue
        ours = outcome.results[0]
        key, size = (parts[1], parts[2]), int(parts[3])
        series.setdefault(key, []).append((size, ours.seconds[0], ours.cpu_median))
    if not series:
        return []
    lines = [
        "### How ours grows with the number of mappings",
        "",
        "Medians of the *first run* of `sync`, wall and CPU. The *added* columns divide the",
        "growth since the previous size by the mappings added: the cost of one more mapping",
        "once the fixed cost (start-up, imports) is paid. Linear growth keeps them flat;",
        "rising figures mean something grows faster than the number of mappings.",
        "",
        "| vault | delay | mappings | wall | CPU | wall per added mapping "
        "| CPU per added mapping |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (provider, delay), points in sorted(series.items()):
        previous: tuple[int, float, float] | None = None
        for size, wall, cpu in sorted(points):
            added_wall = added_cpu = ""
            if previous is not None:
                count = size - previous[0]
                added_wall = format_seconds((wall - previous[1]) / count)
                added_cpu = format_seconds((cpu - previous[2]) / count)
            lines.append(
                f"| {provider} | {delay.replace('ms', ' ms')} | {size:,} | {format_seconds(wall)} "
                f"| {format_seconds(cpu)} | {added_wall} | {added_cpu} |"
            )
            previous = (size, wall, cpu)
    return [*lines, ""]


def _caveats(meta: Meta) -> list[str]:
    """Warnings at the top when the figures cannot be taken at face value."""
    found = []
    cores = os.cpu_count() or 1
    busy = (
        "wall times are inflated, unevenly, and the ratios are unreliable; the CPU "
        "columns are steadier"
    )
    # The machine's busy time less the benchmark's own processes' (not the load average,
    # which the benchmark raises itself).
    if meta.others_cpu > OTHERS_CPU_LIMIT:
        found.append(
            f"measured on a busy machine (other processes used {meta.others_cpu:.0%} "
            f"of its {cores} cores during the run): {busy}"
        )
    if meta.runs < 5 or meta.warmups < 1:
        found.append(
            f"{meta.runs} counted run(s) after {meta.warmups} warm-up(s), not the 5 after 1 "
            "of a full run"
        )
    if not found:
        return []
    return [
        f"> **Provisional figures:** {'; '.join(found)}. Re-run `nox -s bench` on a quiet "
        "machine before quoting them.",
        "",
    ]


#: The report is the part of ``docs/benchmarks.md`` between these lines; the prose around
#: them (what the figures mean, what each scenario runs) is written by hand.
BEGIN = "<!-- begin: written by python -m benchmarks.compare, do not edit by hand -->"
END = "<!-- end: written by python -m benchmarks.compare -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write(path: Path, outcomes: Sequence[Outcome], meta: Meta) -> None:
    """Put the report between ``BEGIN`` and ``END`` in ``path`` (made from ``DOC`` when new)."""
    text = (path if path.exists() else DOC).read_text(encoding="utf-8")
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not (begin and end):
        raise ValueError(f"{path} has no {BEGIN!r} … {END!r} block for the report")
    path.write_text(f"{head}{BEGIN}\n{markdown(outcomes, meta)}{END}{tail}", encoding="utf-8")


def markdown(outcomes: Sequence[Outcome], meta: Meta) -> str:
    """The report: how the run was made, on what, and the figures."""
    rounds = f"{meta.warmups} warm-up, {meta.runs} counted round{'s' if meta.runs != 1 else ''}"
    lines = [
        *_caveats(meta),
        f"These figures were made with `{meta.command}` ({rounds}), which took "
        f"{meta.seconds / 60:.1f} minutes.",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
    ]
    rows = _machine()
    rows += [(tool.label, tool.version) for tool in meta.tools]
    if meta.servers:
        rows.append(("Vault servers", ", ".join(meta.servers)))
    load = "{:.2f} / {:.2f} / {:.2f}"
    rows.append(
        (
            "Load average (1/5/15 min)",
            f"{load.format(*meta.load_before)} before, {load.format(*meta.load_after)} after"
            " (the benchmark's own processes included)",
        )
    )
    rows.append(("CPU used by other processes during the run", f"{meta.others_cpu:.1%}"))
    rows.append(("Date", meta.date))
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", "## Results", ""]
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.scenario.group, []).append(outcome)
    for group, members in groups.items():
        lines += [f"### {group}", "", *_table(members), ""]
    lines += _scaling(outcomes)
    missed = [
        f"* `{o.scenario.id}`: {ratio:.3f} against ≤ {o.scenario.target:g}"
        for o in outcomes
        if o.status == "ok"
        and o.scenario.target is not None
        and (ratio := _ratio(o.results)) is not None
        and ratio > o.scenario.target
    ]
    if missed:
        lines += ["### Targets missed", "", *missed, ""]
    return "\n".join(lines) + "\n"


def as_json(outcomes: Sequence[Outcome], meta: Meta) -> dict[str, Any]:
    """Every sample of the run, for comparing runs."""
    return {
        "command": meta.command,
        "tools": {t.key: {"label": t.label, "version": t.version} for t in meta.tools},
        "servers": list(meta.servers),
        "runs": meta.runs,
        "warmups": meta.warmups,
        "seconds": meta.seconds,
        "load_before": meta.load_before,
        "load_after": meta.load_after,
        "others_cpu": meta.others_cpu,
        "date": meta.date,
        "scenarios": [
            {
                "id": o.scenario.id,
                "status": o.status,
                "reason": o.reason,
                "sides": [
                    {
                        "label": r.side.label,
                        "command": r.side.note,
                        "seconds": [s.seconds for s in r.samples],
                        "cpu_seconds": [s.cpu_seconds for s in r.samples],
                        "warmup_seconds": [s.seconds for s in r.warmups],
                        "peak_kib": r.peak_kib,
                        "requests": [s.requests for s in r.samples],
                    }
                    for r in o.results
                ],
            }
            for o in outcomes
        ],
    }
