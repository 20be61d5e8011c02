"""envdrift side by side with envdrift 11.1.1 (PyPI) and the dotenvx CLI.

Every scenario runs each tool alternately (A B A B …): one warm-up round, then five
counted rounds; the report gives median, min and max wall time, the ratio ours/theirs and
the peak memory of each tool's whole process tree. Before every run the files (and the
vault) are put back in the scenario's start state, and after it a check proves the tool
did its job (keys written, values decrypted, …): a tool that fails fast is an error, not
a win.

    python -m benchmarks.compare              # everything, writes docs/benchmarks.md
    python -m benchmarks.compare --quick      # a smoke run: few scenarios, 2 runs
    python -m benchmarks.compare --only 'sync/aws/25ms/200/*'
    python -m benchmarks.compare --only encrypt --only decrypt   # ours against dotenvx
    python -m benchmarks.compare --list
    python -m benchmarks.compare --only sync/aws/25ms/200/first --profile
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

from benchmarks import fixtures, report
from benchmarks.harness import Invocation, Outcome, RunFailed, Sample, Scenario, Side, alternate
from benchmarks.profiling import profile_side
from benchmarks.servers import VaultServers
from benchmarks.tools import REPO_ROOT, Tool, base_env, dotenvx, install_theirs, ours

DELAYS_MS = (0, 25)
SYNC_SIZES = (1, 10, 50, 200)
#: mode: (arguments, title); "first" starts from a fresh clone, the others from the
#: state after a sync (every ``.env.keys`` already right).
SYNC_MODES = {
    "first": (("sync", "--force"), "first run"),
    "noop": (("sync", "--force"), "no-op re-run"),
    "verify": (("sync", "--verify"), "`--verify`"),
}
SCALING_SIZES = (1000, 5000)
CHECK_DECRYPTION_SIZES = (10, 50)
CRYPTO_SIZES = (10, 1000)
#: The issues' targets for ours/theirs.
CRYPTO_TARGETS = {10: 0.25, 1000: 0.02}
VERIFY_VAULT_VALUES = 100
#: Service numbers of the single-file scenarios' keys (apart from the monorepos' 1…5000).
VERIFY_VAULT_NUMBER = 90_000
CRYPTO_NUMBER = 80_000
VAULT_NAMES = {"aws": "AWS Secrets Manager (moto)", "hashicorp": "HashiCorp Vault (OpenBao)"}
#: ``run`` against ``dotenvx run`` (issue 17): values in the file, target ours/theirs.
RUN_VALUES = 10
RUN_NUMBER = 70_000
RUN_TARGET = 0.35
#: ``sync`` of one mapping from the ``files`` vault (issue 20): ours alone, target < 120 ms.
FILES_TARGET_MS = 120
#: ``pull`` (issue 17): mappings, and the delay each vault request gets; target < 1 s.
PULL_SIZE = 50
PULL_DELAY_MS = 25

Check = Callable[[Sample], None]


@dataclass
class Bench:
    """Everything the scenarios share during one harness run."""

    ours: Tool
    theirs: Tool | None
    dotenvx: Tool | None
    servers: VaultServers
    work: Path
    base: dict[str, str]
    _monorepos: dict[tuple[str, int], fixtures.Monorepo] = field(default_factory=dict)

    def monorepo(self, provider: str, size: int) -> fixtures.Monorepo:
        """The ``size``-service monorepo mapped to ``provider``, its keys in the vault."""
        if (provider, size) not in self._monorepos:
            settings = {"region": "us-east-1"} if provider == "aws" else None
            root = self.work / f"monorepo-{provider}-{size}"
            repo = fixtures.build_monorepo(root, provider, size, provider_settings=settings)
            self.servers.seed(provider, range(1, size + 1))
            self._monorepos[provider, size] = repo
        return self._monorepos[provider, size]

    def side(self, tool: Tool, args: Sequence[str], cwd: Path, env: dict[str, str]) -> Side:
        """A side running ``tool ARGS`` in ``cwd`` (checks and resets added by the caller)."""
        invocation = Invocation(tool.argv(*args), cwd, tool.environment(self.base, env))
        return Side(tool.label, invocation, note=" ".join([tool.program.name, *args]))

    def pair(self, solo: bool, args: Sequence[str], cwd: Path, env: dict[str, str]) -> list[Side]:
        """Ours, and (unless solo or ``--ours-only``) envdrift 11.1.1, on the same job."""
        tools = [self.ours] if solo or self.theirs is None else [self.ours, self.theirs]
        return [self.side(tool, args, cwd, env) for tool in tools]


# -- scenarios --------------------------------------------------------------------------


def _expect_in_output(pattern: str, what: str) -> Check:
    regex = re.compile(pattern)

    def check(sample: Sample) -> None:
        if not regex.search(sample.stdout + sample.stderr):
            raise RunFailed(f"output does not show {what}")

    return check


def _all(*checks: Check) -> Check:
    def check(sample: Sample) -> None:
        for one in checks:
            one(sample)

    return check


def _startup(args: tuple[str, ...]) -> Callable[[Bench], list[Side]]:
    return lambda bench: bench.pair(False, args, bench.work, {})


def _sync(
    provider: str,
    delay_ms: int,
    size: int,
    args: Sequence[str],
    *,
    fresh: bool = True,
    solo: bool = False,
    theirs_check: Check | None = None,
) -> Callable[[Bench], list[Side]]:
    """``envdrift ARGS`` in a ``size``-service monorepo: from a fresh clone, or from the
    state after a sync; every ``.env.keys`` must hold the vault's key afterwards."""

    def prepare(bench: Bench) -> list[Side]:
        repo = bench.monorepo(provider, size)

        def keys_right(sample: Sample) -> None:
            try:
                repo.check_keys()
            except AssertionError as exc:
                raise RunFailed(str(exc)) from None

        sides = bench.pair(solo, args, repo.root, bench.servers.env(provider, delay_ms))
        for side in sides:
            side.reset = repo.remove_keys if fresh else repo.install_keys
            side.check = keys_right
            side.requests = bench.servers.request_counter(provider, delay_ms)
        if len(sides) > 1 and theirs_check is not None:
            sides[1].check = _all(keys_right, theirs_check)
        return sides

    return prepare


def _verify_vault(bench: Bench) -> list[Side]:
    number = VERIFY_VAULT_NUMBER
    secret = fixtures.secret_name(number)
    args = ("decrypt", fixtures.ENV_FILE, "--verify-vault", "--ci", "-p", "aws", "--secret", secret)
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
        sides[1].check = _all(unchanged, _expect_in_output("Vault key can decrypt", "success"))
    return sides


def _crypto(operation: str, size: int) -> Callable[[Bench], list[Side]]:
    """``envdrift encrypt|decrypt`` against ``dotenvx encrypt|decrypt`` on ``size`` keys."""

    def prepare(bench: Bench) -> list[Side]:
        if bench.dotenvx is None:
            raise RunFailed("the dotenvx CLI is not installed (run scripts/bootstrap.sh)")
        folder = bench.work / f"{operation}-{size}"
        folder.mkdir(exist_ok=True)
        target, keys = folder / fixtures.ENV_FILE, folder / ".env.keys"
        values = fixtures.crypto_values(size)
        key = fixtures.private_key(CRYPTO_NUMBER + size)
        encrypting = operation == "encrypt"
        start = (
            fixtures.plain_env_text(values)
            if encrypting
            else fixtures.encrypted_env_text(key, values)
        )

        def reset() -> None:
            target.write_text(start, encoding="utf-8")
            keys.unlink(missing_ok=True)
            if not encrypting:
                keys.write_text(fixtures.keys_file_text(key), encoding="utf-8")

        def check(sample: Sample) -> None:
            text = target.read_text(encoding="utf-8")
            if encrypting:
                missing = fixtures.undecryptable(text, keys.read_text(encoding="utf-8"), values)
            else:
                missing = [n for n, v in values if f'{n}="{v}"' not in text]
            if missing:
                raise RunFailed(f"{len(missing)} of {size} values wrong, first {missing[0]}")

        sides = [
            bench.side(bench.ours, (operation, fixtures.ENV_FILE), folder, {}),
            bench.side(bench.dotenvx, (operation, "-f", fixtures.ENV_FILE), folder, {}),
        ]
        for side in sides:
            side.reset, side.check = reset, check
        return sides

    return prepare


def _run(bench: Bench) -> list[Side]:
    """``envdrift run`` against ``dotenvx run``, the key in ``.env.keys``; the command
    proves the last value reached it, and nothing may be written."""
    if bench.dotenvx is None:
        raise RunFailed("the dotenvx CLI is not installed (run scripts/bootstrap.sh)")
    folder = bench.work / "run"
    folder.mkdir(exist_ok=True)
    values = fixtures.crypto_values(RUN_VALUES)
    key = fixtures.private_key(RUN_NUMBER)
    files = {
        folder / fixtures.ENV_FILE: fixtures.encrypted_env_text(key, values),
        folder / ".env.keys": fixtures.keys_file_text(key),
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    name, value = values[-1]
    command = ("--", "sh", "-c", f'test "${name}" = "$1"', "sh", value)

    def unchanged(sample: Sample) -> None:
        if sorted(folder.iterdir()) != sorted(files) or any(
            path.read_text(encoding="utf-8") != text for path, text in files.items()
        ):
            raise RunFailed("the folder changed")

    sides = [
        bench.side(tool, ("run", "-f", fixtures.ENV_FILE, *command), folder, {})
        for tool in (bench.ours, bench.dotenvx)
    ]
    for side in sides:
        side.check = unchanged
    return sides


def _files_sync(bench: Bench) -> list[Side]:
    """``envdrift sync --force`` (ours alone) of one mapping from the ``files`` vault, from
    a fresh clone: the cost of a run with no SDK and no network."""
    root = bench.work / "files-1"
    repo = fixtures.build_monorepo(root, "files", 1, provider_settings={"path": "secrets"})
    (root / "secrets").mkdir()
    for service in repo.services:
        (root / "secrets" / service.secret).write_text(service.key, encoding="utf-8")

    def check(sample: Sample) -> None:
        try:
            repo.check_keys()
        except AssertionError as exc:
            raise RunFailed(str(exc)) from None

    side = bench.side(bench.ours, SYNC_MODES["first"][0], root, {})
    side.reset, side.check = repo.remove_keys, check
    return [side]


def _pull(bench: Bench) -> list[Side]:
    """``envdrift pull`` (ours alone) from a fresh clone: every key written, every file
    decrypted."""
    root = bench.work / f"pull-aws-{PULL_SIZE}"
    settings = {"region": "us-east-1"}
    repo = fixtures.build_monorepo(root, "aws", PULL_SIZE, provider_settings=settings)
    bench.servers.seed("aws", range(1, PULL_SIZE + 1))
    start = {
        service.folder / fixtures.ENV_FILE: (service.folder / fixtures.ENV_FILE).read_text()
        for service in repo.services
    }

    def reset() -> None:
        repo.remove_keys()
        for path, text in start.items():
            path.write_text(text, encoding="utf-8")

    def check(sample: Sample) -> None:
        try:
            repo.check_keys()
        except AssertionError as exc:
            raise RunFailed(str(exc)) from None
        for service in repo.services:
            text = (service.folder / fixtures.ENV_FILE).read_text(encoding="utf-8")
            for name, value in fixtures.service_values(service.number):
                if f'{name}="{value}"' not in text:
                    raise RunFailed(f"{service.folder.name}: {name} was not decrypted")

    side = bench.side(bench.ours, ("pull", "--ci"), root, bench.servers.env("aws", PULL_DELAY_MS))
    side.reset, side.check = reset, check
    side.requests = bench.servers.request_counter("aws", PULL_DELAY_MS)
    return [side]


def scenarios() -> list[Scenario]:
    """Every scenario, in report order."""
    out = [
        Scenario(f"startup/{name}", "Startup", f"`{' '.join(args)}`", _startup(args), 0.35, True)
        for name, args in (
            ("version", ("--version",)),
            ("help", ("--help",)),
            ("sync-help", ("sync", "--help")),
        )
    ]
    for provider in VAULT_NAMES:
        for delay in DELAYS_MS:
            group = f"sync: {VAULT_NAMES[provider]}, {delay} ms added per request"
            for size in SYNC_SIZES:
                for mode, (args, title) in SYNC_MODES.items():
                    out.append(
                        Scenario(
                            f"sync/{provider}/{delay}ms/{size}/{mode}",
                            group,
                            f"{size} mapping{'s' if size > 1 else ''}, {title}",
                            _sync(provider, delay, size, args, fresh=mode == "first"),
                            target=0.15 if (size, delay, mode) == (200, 25, "first") else None,
                            quick=size == 10 and mode == "first",
                        )
                    )
    for size in CHECK_DECRYPTION_SIZES:
        # 11.1.1 silently skips the test when it finds no dotenvx: demand the count.
        passed = _expect_in_output(rf"Passed:\s*{size}\b", f"{size} passed decryption tests")
        check_args = ("sync", "--check-decryption", "--ci")
        out.append(
            Scenario(
                f"check-decryption/{size}",
                "sync --check-decryption (moto, 0 ms)",
                f"{size} mappings, fresh clone",
                _sync("aws", 0, size, check_args, theirs_check=passed),
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
    for operation in ("encrypt", "decrypt"):
        for size in CRYPTO_SIZES:
            out.append(
                Scenario(
                    f"{operation}/{size}",
                    "encrypt and decrypt, against the dotenvx CLI",
                    f"`{operation}`, {size:,} keys",
                    _crypto(operation, size),
                    target=CRYPTO_TARGETS[size],
                    quick=size == 10,
                )
            )
    out.append(
        Scenario(
            f"run/{RUN_VALUES}",
            "run, against the dotenvx CLI",
            f"`run -f {fixtures.ENV_FILE} -- CMD`, key in .env.keys, {RUN_VALUES} values",
            _run,
            target=RUN_TARGET,
            quick=True,
        )
    )
    out.append(
        Scenario(
            "files/sync/1",
            f"sync: the files vault (ours alone; target: under {FILES_TARGET_MS} ms)",
            "1 mapping, first run",
            _files_sync,
            quick=True,
        )
    )
    out.append(
        Scenario(
            f"pull/aws/{PULL_DELAY_MS}ms/{PULL_SIZE}",
            "pull (ours alone; target: under 1 s)",
            f"{VAULT_NAMES['aws']}, {PULL_DELAY_MS} ms, {PULL_SIZE} mappings, fresh clone",
            _pull,
            quick=True,
        )
    )
    for provider in VAULT_NAMES:
        for delay in DELAYS_MS:
            for size in SCALING_SIZES:
                out.append(
                    Scenario(
                        f"scaling/{provider}/{delay}ms/{size}",
                        "Scaling (ours alone)",
                        f"{VAULT_NAMES[provider]}, {delay} ms, {size:,} mappings, fresh clone",
                        _sync(provider, delay, size, SYNC_MODES["first"][0], solo=True),
                    )
                )
    return out


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
    """Run ``chosen`` in order; a scenario that fails is recorded, not fatal.

    With ``profile_dir``, ours runs once more per scenario under the profilers (see
    ``profiling``), after the timed runs.
    """
    outcomes = []
    for scenario in chosen:
        try:
            sides = scenario.prepare(bench)
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
def bench_session(bench_dir: Path, *, ours_only: bool, keep: bool = False) -> Iterator[Bench]:
    """The tools, a scratch folder and (on demand) the vault servers; all cleaned up after.

    Args:
        bench_dir: Where the competitors are installed (``.bench/``).
        ours_only: Do not install or run envdrift 11.1.1 (dotenvx still runs).
        keep: Keep the scratch folder, for looking at what the tools wrote.
    """
    bench_dir.mkdir(parents=True, exist_ok=True)
    dotenvx_tool = dotenvx()
    theirs = None if ours_only else install_theirs(bench_dir, dotenvx_tool)
    # Outside the repository: both envdrifts look for git work trees and config files
    # upwards from the current directory; the repository's own must not be found.
    work = Path(tempfile.mkdtemp(prefix="envdrift-bench-"))
    with ExitStack() as stack:
        if keep:
            print(f"bench: scratch folder kept: {work}", file=sys.stderr)
        else:
            stack.callback(shutil.rmtree, work, True)
        (work / "home").mkdir()
        servers = VaultServers(stack, work)
        yield Bench(ours(), theirs, dotenvx_tool, servers, work, base_env(work / "home"))


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add = parser.add_argument
    add("--quick", action="store_true", help="few scenarios, 2 counted runs")
    add("--only", action="append", default=[], metavar="PATTERN", help="ids: glob or parts")
    add("--runs", type=int, help="counted runs per tool (default 5, quick 2)")
    add("--warmups", type=int, default=1, help="uncounted runs first (default 1)")
    add("--ours-only", action="store_true", help="do not install or run envdrift 11.1.1")
    add("--output", type=Path, help="the report (default: docs/benchmarks.md after a full run)")
    add("--bench-dir", type=Path, default=REPO_ROOT / ".bench", help="competitors, results")
    add("--keep", action="store_true", help="keep the scratch folder")
    add("--profile", action="store_true", help="profile ours too (BENCH_DIR/profiles/)")
    add("--list", action="store_true", help="list scenario ids and exit")
    args = parser.parse_args(argv)
    args.bench_dir = args.bench_dir.resolve()  # commands run in other directories
    chosen = select(scenarios(), args.only, args.quick)
    if args.list:
        print("\n".join(scenario.id for scenario in chosen))
        return 0
    if not chosen:
        parser.error("no scenario matches")
    runs = args.runs or (2 if args.quick else 5)
    full = not args.quick and not args.only and runs >= 5 and not args.ours_only
    default = REPO_ROOT / "docs" / "benchmarks.md" if full else args.bench_dir / "last-run.md"
    output = args.output or default

    def log(line: str) -> None:
        print(f"bench: {line}", file=sys.stderr, flush=True)

    started, load_before = time.time(), os.getloadavg()
    machine_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    with bench_session(args.bench_dir, ours_only=args.ours_only, keep=args.keep) as bench:
        profiles = args.bench_dir / "profiles" if args.profile else None
        outcomes = run_scenarios(
            bench, chosen, runs=runs, warmups=args.warmups, log=log, profile_dir=profiles
        )
        server_versions = bench.servers.versions()
        tools = [t for t in (bench.ours, bench.theirs, bench.dotenvx) if t is not None]
    # After the session: its servers have been waited for, so their CPU is ours too.
    seconds = time.time() - started
    others = (machine_busy_seconds() - machine_before) - (own_cpu_seconds() - own_before)
    others_cpu = max(0.0, others) / (seconds * (os.cpu_count() or 1))
    shown = [shlex.quote(arg) for arg in (argv if argv is not None else sys.argv[1:])]
    if os.environ.get("NOX_CURRENT_SESSION") == "bench":
        command = " ".join(["nox -s bench", *(["--", *shown] if shown else [])])
    else:
        command = " ".join(["python -m benchmarks.compare", *shown])
    meta = report.Meta(
        command=command,
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
    report.write(output, outcomes, meta)
    results = args.bench_dir / "results.json"
    results.write_text(json.dumps(report.as_json(outcomes, meta), indent=1), encoding="utf-8")
    log(f"report: {output} (raw figures: {results}); took {meta.seconds / 60:.1f} min")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    # cpu user nice system idle iowait irq softirq steal ...: all but idle and iowait.
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds this process and its waited-for children (tools, servers) have used."""
    usages = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(usage.ru_utime + usage.ru_stime for usage in usages)


if __name__ == "__main__":
    sys.exit(main())
