"""envdrift side by side with envdrift 11.1.1 (PyPI) and the dotenvx CLI.

Every scenario runs each tool alternately (A B A B …): one warm-up round, then five
counted rounds; the report gives median, min and max wall time, the ratio ours/theirs and
the peak memory of each tool's whole process tree. Before every run the files (and the
vault) are put back in the scenario's start state, and after it a check proves the tool
did its job (keys written, values decrypted, …): a tool that fails fast is an error, not
a win. Scenarios whose command our envdrift does not have yet are listed as "not
available yet", so the harness runs at every stage of the project.

    .venv/bin/python benchmarks/compare.py              # everything, writes docs/benchmarks.md
    .venv/bin/python benchmarks/compare.py --quick      # a smoke run: few scenarios, 2 runs
    .venv/bin/python benchmarks/compare.py --only 'sync/aws/25ms/200/*'
    .venv/bin/python benchmarks/compare.py --list
    .venv/bin/python benchmarks/compare.py --only sync/aws/25ms/200/first --profile
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import re
import resource
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import fixtures, report
from benchmarks.harness import Invocation, RunFailed, Sample, Side, SideResult, alternate
from benchmarks.profiling import profile_side
from benchmarks.servers import VaultServers
from benchmarks.tools import REPO_ROOT, Capabilities, Tool, base_env, dotenvx, install_theirs, ours

__all__ = ["Bench", "Outcome", "Scenario", "main", "run_scenarios", "scenarios"]

DELAYS_MS = (0, 25)
SYNC_SIZES = (1, 10, 50, 200)
SYNC_MODES = {
    # mode: (arguments, start state, what it means)
    "first": (("sync", "--force"), "fresh clone: no .env.keys"),
    "noop": (("sync", "--force"), "every .env.keys already right"),
    "verify": (("sync", "--verify"), "every .env.keys already right"),
}
SCALING_SIZES = (1000, 5000)
CHECK_DECRYPTION_SIZES = (10, 50)
CRYPTO_SIZES = (10, 1000)
VERIFY_VAULT_VALUES = 100
#: Service numbers of the single-file scenarios' keys (apart from the monorepos' 1…5000).
VERIFY_VAULT_NUMBER = 90_000
CRYPTO_NUMBER = 80_000


class Unavailable(Exception):
    """The scenario cannot run at this stage of the project (the reason says why)."""


@dataclass(frozen=True)
class Scenario:
    """One row of the report.

    Attributes:
        id: Stable name, matched by ``--only`` (``sync/aws/25ms/200/first``).
        group: The report section.
        title: The row's label within its section.
        prepare: Builds the sides (ours first) or raises ``Unavailable``.
        target: The issue's target for ours/theirs, if it sets one.
        quick: Part of ``--quick``.
        solo: Ours alone (no competitor runs it).
    """

    id: str
    group: str
    title: str
    prepare: Callable[[Bench], list[Side]]
    target: float | None = None
    quick: bool = False
    solo: bool = False


@dataclass
class Outcome:
    """What happened to one scenario."""

    scenario: Scenario
    status: str  # "ok", "unavailable" or "failed"
    reason: str = ""
    results: list[SideResult] = field(default_factory=list)


@dataclass
class Bench:
    """Everything the scenarios share during one harness run."""

    ours: Tool
    theirs: Tool | None
    dotenvx: Tool | None
    servers: VaultServers
    work: Path
    base: dict[str, str]
    caps: Capabilities
    _monorepos: dict[tuple[str, int], fixtures.Monorepo] = field(default_factory=dict)

    def require(self, *reasons: str | None) -> None:
        """Raise ``Unavailable`` with the first reason given."""
        for reason in reasons:
            if reason:
                raise Unavailable(reason)

    def monorepo(self, provider: str, size: int) -> fixtures.Monorepo:
        """The ``size``-service monorepo mapped to ``provider``, its keys in the vault."""
        key = (provider, size)
        if key not in self._monorepos:
            settings = {"region": "us-east-1"} if provider == "aws" else None
            root = self.work / f"monorepo-{provider}-{size}"
            self._monorepos[key] = fixtures.build_monorepo(
                root, provider, size, provider_settings=settings
            )
            self.servers.seed(provider, range(1, size + 1))
        return self._monorepos[key]

    def side(self, tool: Tool, args: Sequence[str], cwd: Path, env: dict[str, str]) -> Side:
        """A side running ``tool ARGS`` in ``cwd`` (checks and resets added by the caller)."""
        invocation = Invocation(tool.argv(*args), cwd, tool.environment(self.base, env))
        return Side(tool.label, invocation, note=" ".join([tool.program.name, *args]))

    def pair(
        self,
        scenario_solo: bool,
        args: Sequence[str],
        cwd: Path,
        env: dict[str, str],
        theirs_args: Sequence[str] | None = None,
    ) -> list[Side]:
        """Ours, and (unless solo or ``--ours-only``) envdrift 11.1.1, on the same job."""
        sides = [self.side(self.ours, args, cwd, env)]
        if not scenario_solo and self.theirs is not None:
            sides.append(self.side(self.theirs, theirs_args or args, cwd, env))
        return sides


# -- scenarios --------------------------------------------------------------------------


def _startup(args: tuple[str, ...], command: str | None) -> Callable[[Bench], list[Side]]:
    def prepare(bench: Bench) -> list[Side]:
        if command:
            bench.require(bench.caps.missing(command))
        return bench.pair(False, args, bench.work, {})

    return prepare


def _expect_in_output(pattern: str, what: str) -> Callable[[Sample], None]:
    regex = re.compile(pattern)

    def check(sample: Sample) -> None:
        if not regex.search(sample.stdout + sample.stderr):
            raise RunFailed(f"output does not show {what}")

    return check


def _sync(
    provider: str, delay_ms: int, size: int, mode: str, solo: bool = False
) -> Callable[[Bench], list[Side]]:
    args, _ = SYNC_MODES[mode]

    def prepare(bench: Bench) -> list[Side]:
        bench.require(
            bench.servers.missing(provider),
            bench.caps.missing(*args),
            bench.caps.missing_vault(provider),
        )
        repo = bench.monorepo(provider, size)
        sides = bench.pair(solo, args, repo.root, bench.servers.env(provider, delay_ms))
        for side in sides:
            side.reset = repo.remove_keys if mode == "first" else repo.install_keys
            side.check = _keys_of(repo)
            side.requests = bench.servers.request_counter(provider, delay_ms)
        return sides

    return prepare


def _check_decryption(size: int) -> Callable[[Bench], list[Side]]:
    args = ("sync", "--check-decryption", "--ci")

    def prepare(bench: Bench) -> list[Side]:
        bench.require(
            bench.servers.missing("aws"), bench.caps.missing(*args), bench.caps.missing_vault("aws")
        )
        repo = bench.monorepo("aws", size)
        sides = bench.pair(False, args, repo.root, bench.servers.env("aws", 0))
        for side in sides:
            side.reset = repo.remove_keys
            side.check = _keys_of(repo)
            side.requests = bench.servers.request_counter("aws", 0)
        if len(sides) > 1:
            # 11.1.1 silently skips the test when it finds no dotenvx: demand the count.
            passed = _expect_in_output(rf"Passed:\s*{size}\b", f"{size} passed decryption tests")
            sides[1].check = _all(_keys_of(repo), passed)
        return sides

    return prepare


def _keys_of(repo: fixtures.Monorepo) -> Callable[[Sample], None]:
    def check(sample: Sample) -> None:
        try:
            repo.check_keys()
        except AssertionError as exc:
            raise RunFailed(str(exc)) from None

    return check


def _all(*checks: Callable[[Sample], None]) -> Callable[[Sample], None]:
    def check(sample: Sample) -> None:
        for one in checks:
            one(sample)

    return check


def _verify_vault(bench: Bench) -> list[Side]:
    number = VERIFY_VAULT_NUMBER
    secret = fixtures.secret_name(number)
    args = ("decrypt", fixtures.ENV_FILE, "--verify-vault", "--ci", "-p", "aws", "--secret", secret)
    bench.require(
        bench.servers.missing("aws"),
        bench.caps.missing("decrypt", "--verify-vault"),
        bench.caps.missing_vault("aws"),
    )
    folder = bench.work / "verify-vault"
    folder.mkdir(exist_ok=True)
    target = folder / fixtures.ENV_FILE
    values = fixtures.service_values(number, VERIFY_VAULT_VALUES)
    text = fixtures.encrypted_env_text(fixtures.private_key(number), values)
    target.write_text(text, encoding="utf-8")
    bench.servers.seed("aws", [number])

    def unchanged(sample: Sample) -> None:
        if target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            raise RunFailed(f"{target.name} was modified")

    sides = bench.pair(False, args, folder, bench.servers.env("aws", 0))
    for side in sides:
        side.check = unchanged
        side.requests = bench.servers.request_counter("aws", 0)
    if len(sides) > 1:
        can = _expect_in_output("Vault key can decrypt", "a passed verification")
        sides[1].check = _all(unchanged, can)
    return sides


def _crypto(operation: str, size: int) -> Callable[[Bench], list[Side]]:
    def prepare(bench: Bench) -> list[Side]:
        bench.require(bench.caps.missing(operation))
        if bench.dotenvx is None:
            raise Unavailable("the dotenvx CLI is not installed (run scripts/bootstrap.sh)")
        folder = bench.work / f"{operation}-{size}"
        folder.mkdir(exist_ok=True)
        target, keys = folder / fixtures.ENV_FILE, folder / ".env.keys"
        values = fixtures.crypto_values(size)
        key = fixtures.private_key(CRYPTO_NUMBER + size)
        if operation == "encrypt":
            start, start_keys = fixtures.plain_env_text(values), None
        else:
            start = fixtures.encrypted_env_text(key, values)
            start_keys = fixtures.keys_file_text(key)

        def reset() -> None:
            target.write_text(start, encoding="utf-8")
            keys.unlink(missing_ok=True)
            if start_keys is not None:
                keys.write_text(start_keys, encoding="utf-8")

        def check(sample: Sample) -> None:
            text = target.read_text(encoding="utf-8")
            if operation == "decrypt":
                missing = [n for n, v in values if f'{n}="{v}"' not in text]
            else:
                missing = fixtures.undecryptable(text, keys.read_text(encoding="utf-8"), values)
            if missing:
                raise RunFailed(f"{len(missing)} of {size} values wrong, first {missing[0]}")

        ours_side = bench.side(bench.ours, (operation, fixtures.ENV_FILE), folder, {})
        theirs_side = bench.side(bench.dotenvx, (operation, "-f", fixtures.ENV_FILE), folder, {})
        sides = [ours_side, theirs_side]
        for side in sides:
            side.reset, side.check = reset, check
        return sides

    return prepare


#: The issue's targets for our encrypt/decrypt against dotenvx's (ours/theirs).
CRYPTO_TARGETS = {10: 0.25, 1000: 0.02}


def crypto_scenario(operation: str, size: int) -> Scenario:
    """``envdrift encrypt|decrypt`` against ``dotenvx encrypt|decrypt`` on ``size`` keys."""
    return Scenario(
        f"{operation}/{size}",
        "encrypt and decrypt, against the dotenvx CLI",
        f"`{operation}`, {size:,} keys",
        _crypto(operation, size),
        target=CRYPTO_TARGETS.get(size),
        quick=size == 10,
    )


def scenarios() -> list[Scenario]:
    """Every scenario, in report order."""
    out = [
        Scenario(
            "startup/version",
            "Startup",
            "`--version`",
            _startup(("--version",), None),
            target=0.35,
            quick=True,
        ),
        Scenario(
            "startup/sync-help",
            "Startup",
            "`sync --help`",
            _startup(("sync", "--help"), "sync"),
            target=0.35,
            quick=True,
        ),
    ]
    names = {"aws": "AWS Secrets Manager (moto)", "hashicorp": "HashiCorp Vault (OpenBao)"}
    for provider in ("aws", "hashicorp"):
        for delay in DELAYS_MS:
            group = f"sync: {names[provider]}, {delay} ms added per request"
            for size in SYNC_SIZES:
                for mode in SYNC_MODES:
                    target = 0.15 if size == 200 and delay == 25 and mode == "first" else None
                    out.append(
                        Scenario(
                            f"sync/{provider}/{delay}ms/{size}/{mode}",
                            group,
                            f"{size} mapping{'s' if size > 1 else ''}, {_MODE_TITLES[mode]}",
                            _sync(provider, delay, size, mode),
                            target=target,
                            quick=size == 10 and mode == "first",
                        )
                    )
    for size in CHECK_DECRYPTION_SIZES:
        out.append(
            Scenario(
                f"check-decryption/{size}",
                "sync --check-decryption (moto, 0 ms)",
                f"{size} mappings, fresh clone",
                _check_decryption(size),
                target=0.05,
                quick=size == 10,
            )
        )
    out.append(
        Scenario(
            f"verify-vault/{VERIFY_VAULT_VALUES}",
            "decrypt --verify-vault (moto, 0 ms)",
            f"{VERIFY_VAULT_VALUES}-value file",
            _verify_vault,
            target=0.3,
            quick=True,
        )
    )
    out += [
        crypto_scenario(operation, size)
        for operation in ("encrypt", "decrypt")
        for size in CRYPTO_SIZES
    ]
    for provider in ("aws", "hashicorp"):
        for delay in DELAYS_MS:
            for size in SCALING_SIZES:
                out.append(
                    Scenario(
                        f"scaling/{provider}/{delay}ms/{size}",
                        "Scaling (ours alone)",
                        f"{names[provider]}, {delay} ms, {size:,} mappings, fresh clone",
                        _sync(provider, delay, size, "first", solo=True),
                        solo=True,
                    )
                )
    return out


_MODE_TITLES = {"first": "first run", "noop": "no-op re-run", "verify": "`--verify`"}


# -- running ----------------------------------------------------------------------------


def select(
    all_scenarios: Sequence[Scenario], patterns: Sequence[str], quick: bool
) -> list[Scenario]:
    """The scenarios ``--only`` and ``--quick`` keep.

    A pattern with ``*``, ``?`` or ``[`` is a glob over the whole id; any other pattern
    names whole ``/``-separated parts that must appear in a row: ``aws`` or ``25ms/200``
    (but ``encrypt/10`` is not ``encrypt/1000``).
    """

    def matches(scenario: Scenario, pattern: str) -> bool:
        if any(char in pattern for char in "*?["):
            return fnmatch.fnmatchcase(scenario.id, pattern)
        parts, wanted = scenario.id.split("/"), pattern.strip("/").split("/")
        return any(
            parts[i : i + len(wanted)] == wanted for i in range(len(parts) - len(wanted) + 1)
        )

    chosen = [s for s in all_scenarios if not quick or s.quick]
    if patterns:
        chosen = [s for s in chosen if any(matches(s, p) for p in patterns)]
    return chosen


def run_scenarios(
    bench: Bench,
    chosen: Sequence[Scenario],
    *,
    runs: int,
    warmups: int,
    log: Callable[[str], None],
    profile_dir: Path | None = None,
) -> list[Outcome]:
    """Run ``chosen`` in order; a scenario that fails or cannot run is recorded, not fatal.

    With ``profile_dir``, ours runs once more per scenario under the profilers (see
    ``profiling``), after the timed runs.
    """
    outcomes = []
    for scenario in chosen:
        try:
            sides = scenario.prepare(bench)
        except Unavailable as exc:
            outcomes.append(Outcome(scenario, "unavailable", str(exc)))
            log(f"{scenario.id}: skipped, {exc}")
            continue
        try:
            results = alternate(sides, runs=runs, warmups=warmups)
        except RunFailed as exc:
            outcomes.append(Outcome(scenario, "failed", str(exc)))
            log(f"{scenario.id}: FAILED, {exc}")
            continue
        outcomes.append(Outcome(scenario, "ok", results=results))
        log(f"{scenario.id}: " + report.summary_line(results))
        if profile_dir is not None:
            try:
                log(f"{scenario.id}: profile in {profile_side(sides[0], scenario.id, profile_dir)}")
            except RunFailed as exc:
                log(f"{scenario.id}: no profile, {exc}")
    return outcomes


@contextlib.contextmanager
def bench_session(
    bench_dir: Path, *, ours_only: bool, keep: bool = False, log: Callable[[str], None] = print
) -> Iterator[Bench]:
    """The tools, a scratch folder and (on demand) the vault servers; all cleaned up after.

    Args:
        bench_dir: Where the competitors are installed (``.bench/``).
        ours_only: Do not install or run envdrift 11.1.1 (dotenvx still runs).
        keep: Keep the scratch folder, for looking at what the tools wrote.
        log: Where progress lines go.
    """
    bench_dir.mkdir(parents=True, exist_ok=True)
    dotenvx_tool = dotenvx()
    theirs = None if ours_only else install_theirs(bench_dir, dotenvx_tool)
    # Outside the repository: both envdrifts look for git work trees and config files
    # upwards from the current directory; the repository's own must not be found.
    work = Path(tempfile.mkdtemp(prefix="envdrift-bench-"))
    with ExitStack() as stack:
        if keep:
            log(f"scratch folder kept: {work}")
        else:
            stack.callback(shutil.rmtree, work, True)
        home = work / "home"
        home.mkdir()
        base = base_env(home)
        our_tool = ours()
        yield Bench(
            ours=our_tool,
            theirs=theirs,
            dotenvx=dotenvx_tool,
            servers=VaultServers(stack, work),
            work=work,
            base=base,
            caps=Capabilities(our_tool, our_tool.environment(base)),
        )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few scenarios, 2 counted runs")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="scenario ids to run: a glob, or a substring (repeatable)",
    )
    parser.add_argument("--runs", type=int, help="counted runs per tool (default 5, quick 2)")
    parser.add_argument("--warmups", type=int, default=1, help="uncounted runs first (default 1)")
    parser.add_argument(
        "--ours-only", action="store_true", help="do not install or run envdrift 11.1.1"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="the report (default: docs/benchmarks.md for a full run, "
        ".bench/last-run.md otherwise)",
    )
    parser.add_argument(
        "--bench-dir",
        type=Path,
        default=REPO_ROOT / ".bench",
        help="where competitors are installed and results kept",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then run ours once more per scenario under cProfile and -X importtime "
        "(reports in BENCH_DIR/profiles/)",
    )
    parser.add_argument("--list", action="store_true", help="list scenario ids and exit")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: write the report of an earlier run's results.json again",
    )
    args = parser.parse_args(argv)
    args.bench_dir = args.bench_dir.resolve()  # commands run in other directories
    if args.render:
        outcomes, meta = load_results(args.render)
        output = args.output or args.bench_dir / "last-run.md"
        output.write_text(report.markdown(outcomes, meta), encoding="utf-8")
        print(f"bench: report: {output}", file=sys.stderr)
        return 0

    chosen = select(scenarios(), args.only, args.quick)
    if args.list:
        for scenario in chosen:
            print(scenario.id)
        return 0
    if not chosen:
        parser.error("no scenario matches")
    runs = args.runs or (2 if args.quick else 5)
    full = not args.quick and not args.only and runs >= 5 and not args.ours_only
    output = args.output or (
        REPO_ROOT / "docs" / "benchmarks.md" if full else args.bench_dir / "last-run.md"
    )

    def log(line: str) -> None:
        print(f"bench: {line}", file=sys.stderr, flush=True)

    started, load_before = time.time(), os.getloadavg()
    machine_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    with bench_session(args.bench_dir, ours_only=args.ours_only, keep=args.keep, log=log) as bench:
        outcomes = run_scenarios(
            bench,
            chosen,
            runs=runs,
            warmups=args.warmups,
            log=log,
            profile_dir=args.bench_dir / "profiles" if args.profile else None,
        )
        server_versions = bench.servers.versions()
        tools = [t for t in (bench.ours, bench.theirs, bench.dotenvx) if t is not None]
    # After the session: its servers have been waited for, so their CPU is ours too.
    machine_after, seconds = machine_busy_seconds(), time.time() - started
    others_cpu = None
    if machine_before is not None and machine_after is not None:
        others = (machine_after - machine_before) - (own_cpu_seconds() - own_before)
        others_cpu = max(0.0, others) / (seconds * (os.cpu_count() or 1))
    meta = report.Meta(
        command=_reproduce_command(argv if argv is not None else sys.argv[1:]),
        tools=tools,
        servers=server_versions,
        runs=runs,
        warmups=args.warmups,
        seconds=seconds,
        load_before=load_before,
        load_after=os.getloadavg(),
        others_cpu=others_cpu,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.markdown(outcomes, meta), encoding="utf-8")
    results = args.bench_dir / "results.json"
    results.write_text(json.dumps(report.as_json(outcomes, meta), indent=1), encoding="utf-8")
    log(f"report: {output} (raw figures: {results}); took {meta.seconds / 60:.1f} min")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def load_results(path: Path) -> tuple[list[Outcome], report.Meta]:
    """Read back a run's ``results.json``, to write its report again (``--render``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    by_id = {scenario.id: scenario for scenario in scenarios()}
    outcomes = []
    for entry in data["scenarios"]:
        results = []
        for side in entry["sides"]:
            # The side's peak rides on its samples; per-sample memory is not kept.
            samples = [
                Sample(seconds, cpu, side["peak_kib"], 0, 0, "", "", requests)
                for seconds, cpu, requests in zip(
                    side["seconds"], side["cpu_seconds"], side["requests"], strict=True
                )
            ]
            invocation = Invocation((side["command"],), path.parent, {})
            results.append(SideResult(Side(side["label"], invocation), samples))
        scenario = by_id[entry["id"]]
        outcomes.append(Outcome(scenario, entry["status"], entry["reason"], results))
    tools = [
        Tool(key, tool["label"], Path(key), tool["version"]) for key, tool in data["tools"].items()
    ]
    meta = report.Meta(
        command=data["command"],
        tools=tools,
        servers=data["servers"],
        runs=data["runs"],
        warmups=data["warmups"],
        seconds=data["seconds"],
        load_before=tuple(data["load_before"]),
        load_after=tuple(data["load_after"]),
        others_cpu=data.get("others_cpu"),
        # Older files have no date: the file's own time is when the run ended.
        date=data.get("date")
        or time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(path.stat().st_mtime)),
    )
    return outcomes, meta


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes on the machine have used since boot (``/proc/stat``).

    ``None`` where there is no ``/proc/stat``.
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal ...: all but idle and iowait.
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds this process and its waited-for children (tools, servers) have used."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _reproduce_command(argv: Sequence[str]) -> str:
    shown = [shlex.quote(arg) for arg in argv]
    if os.environ.get("NOX_CURRENT_SESSION") == "bench":
        return " ".join(["nox -s bench", *(["--", *shown] if shown else [])])
    return " ".join([".venv/bin/python benchmarks/compare.py", *shown])


if __name__ == "__main__":
    sys.exit(main())
