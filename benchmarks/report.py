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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.compare import Outcome
    from benchmarks.harness import SideResult
    from benchmarks.tools import Tool

__all__ = ["OTHERS_CPU_LIMIT", "Meta", "as_json", "format_seconds", "markdown", "summary_line"]

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
    date: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M %Z"))
    #: The share of the machine's CPU that processes other than the benchmark's own
    #: (harness, tools, vault servers) used during the run; None where unknown.
    others_cpu: float | None = None


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
    stats = result.stats
    return (
        f"{format_seconds(stats.median)} "
        f"({format_seconds(stats.minimum)}-{format_seconds(stats.maximum)})"
    )


def _ratio(results: Sequence[SideResult]) -> float | None:
    if len(results) < 2:
        return None
    return results[0].stats.median / results[1].stats.median


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


_ABOUT = """\
envdrift (this repository) side by side with
[envdrift 11.1.1](https://pypi.org/project/envdrift/11.1.1/) from PyPI and the
[dotenvx](https://dotenvx.com) CLI, measured in one run on one machine by
`benchmarks/compare.py`. This file is written by that script; do not edit it by hand.

Every figure is the wall time of the whole process, as a user waits for it. Each tool runs
alternately (A B A B …): {warmups} warm-up round{s}, then {runs} counted round{rs}, giving the
median and the range (min-max). *ours/theirs* divides the medians: below 1 means we are
faster. *CPU* is the median CPU time (user + system) of the whole process tree: wall time
far above it means the process waited, for the network or for a busy machine. *vault
requests* counts the HTTP requests the proxy saw in a run (median; ours / theirs). *Peak RSS*
is the peak resident memory of the whole process tree (envdrift 11.1.1 runs dotenvx as a
child process): the larger of the biggest single process (`wait4`) and the tree's total
sampled every 10 ms during the warm-up.

Before every run the files are put back in the scenario's start state, and after every run
a check proves the tool did the job (every `.env.keys` holds the vault's key, every value
decrypts to the original, the file under `--verify-vault` is unchanged, …). A run that
fails its check voids the row: failing fast is not a win.
"""

_SCENARIOS = """\
## What each scenario runs

* **Startup**: `envdrift --version` and `envdrift sync --help`.
* **sync**: a monorepo of *N* service folders, each with an encrypted `.env.production`
  (envdrift 11.1.1 skips a folder without one), and an `envdrift.toml` (the user guide's
  schema, read by both versions) mapping each folder to a vault secret that holds its bare
  private key, as `aws secretsmanager create-secret` / `vault kv put … value=` store it.
  *first run*: `envdrift sync --force` with no `.env.keys` anywhere (a fresh clone);
  *no-op re-run*: the same with every `.env.keys` already right; *`--verify`*: `envdrift
  sync --verify` in that state. Both tools reach the server through the standard settings
  (`AWS_ENDPOINT_URL`, `VAULT_ADDR`/`VAULT_TOKEN`) and a loopback proxy that holds every
  request for 0 or 25 ms, standing in for the network to a real cloud vault.
* **sync --check-decryption**: `envdrift sync --check-decryption --ci` on a fresh clone,
  against moto without added delay; every key must be shown to decrypt its folder's file.
* **decrypt --verify-vault**: `envdrift decrypt .env.production --verify-vault --ci -p aws
  --secret …` on a file of 100 encrypted values, against moto without added delay.
* **encrypt / decrypt**: `envdrift encrypt|decrypt .env.production` against `dotenvx
  encrypt|decrypt -f .env.production`, files of `KEY_00001="value number 1 with some
  padding text"` lines; encrypt starts from plaintext without `.env.keys`, decrypt rewrites
  the file in place.
* **Scaling**: the *first run* of `sync` with 1,000 and 5,000 mappings, ours alone (at
  these sizes envdrift 11.1.1 would take minutes per run), next to the smaller sizes.

The encrypted inputs are written by the benchmark itself (its own few lines of ECIES, not
the envdrift under test); envdrift 11.1.1 and dotenvx decrypting them is the proof that they
are right. envdrift 11.1.1 finds dotenvx in its virtualenv or on `PATH` (it would download
its pinned 2.34.2 only with `auto_install`, which is off by default); the benchmark links the
project's pinned dotenvx into its virtualenv, so both envdrifts use the same dotenvx.
Wherever dotenvx runs, its other key stores (Dotenvx Armor, the OS keychain, 1Password,
Bitwarden) and its background event reporting are switched off (`DOTENVX_NO_ARMOR=true`
and friends): offline they could only add time, so this can only favour the competitors.
"""


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
            status = "not available yet" if outcome.status == "unavailable" else "**failed**"
            reason = outcome.reason.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {scenario.title} | {status}: {reason} | | | {target} | | | | | |")
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
        series.setdefault(key, []).append((size, ours.stats.median, ours.cpu_median))
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
    if meta.others_cpu is not None:
        # Measured: the machine's busy time less the benchmark's own processes'.
        if meta.others_cpu > OTHERS_CPU_LIMIT:
            found.append(
                f"measured on a busy machine (other processes used {meta.others_cpu:.0%} "
                f"of its {cores} cores during the run): {busy}"
            )
    else:
        load = max(meta.load_before[0], meta.load_after[0])
        # The harness itself keeps about one core busy; more than that is someone else.
        if load > cores + 0.5:
            found.append(
                f"measured on a busy machine (load average up to {load:.1f} on {cores} "
                f"cores): {busy}"
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


def markdown(outcomes: Sequence[Outcome], meta: Meta) -> str:
    """The whole report."""
    s = "" if meta.warmups == 1 else "s"
    lines = ["# Benchmarks", "", *_caveats(meta)]
    rs = "" if meta.runs == 1 else "s"
    lines += [_ABOUT.format(warmups=meta.warmups, s=s, runs=meta.runs, rs=rs)]
    lines += [
        "## How to reproduce",
        "",
        "```",
        "nox -s bench                                     # the full run, as published",
        "nox -s bench -- --quick                          # a smoke run",
        ".venv/bin/python benchmarks/compare.py --help    # the options",
        "```",
        "",
        f"This file was made with `{meta.command}`, which took {meta.seconds / 60:.1f} minutes.",
        "The harness installs envdrift 11.1.1 into `.bench/` on first use and starts the local",
        "vault servers itself. For figures worth publishing, run it on a quiet machine: the",
        "CPU other processes used, below, shows how quiet this one was.",
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
    if meta.others_cpu is not None:
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
        o
        for o in outcomes
        if o.status == "ok"
        and o.scenario.target is not None
        and (ratio := _ratio(o.results)) is not None
        and ratio > o.scenario.target
    ]
    if missed:
        lines += ["### Targets missed", ""]
        lines += [
            f"* `{o.scenario.id}`: {_ratio(o.results):.3f} against ≤ {o.scenario.target:g}"
            for o in missed
        ]
        lines.append("")
    lines.append(_SCENARIOS)
    return "\n".join(lines)


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
