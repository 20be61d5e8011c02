"""The benchmark harness (``python -m benchmarks.compare``) keeps working between full runs.

A full run takes many minutes and needs envdrift 11.1.1 installed, so it is not part of
the suite; these tests drive the same plumbing on the tiniest scenario, ours only, and on
hand-made scenarios. They never assert on timings: only that runs are made, checked,
counted and reported.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import compare, fixtures, harness, report
from benchmarks.harness import Invocation, RunFailed, Sample, Scenario, Side
from benchmarks.tools import THEIRS_VERSION, dotenvx

REPO_ROOT = Path(__file__).resolve().parent.parent


def _python_side(code: str, tmp_path: Path, label: str = "python") -> Side:
    invocation = Invocation((sys.executable, "-c", code), tmp_path, {"PATH": "/usr/bin:/bin"})
    return Side(label, invocation)


def test_startup_scenario_runs_ours_and_writes_both_reports(tmp_path: Path) -> None:
    output, bench_dir = tmp_path / "benchmarks.md", tmp_path / "bench"
    argv = ["--only", "startup/version", "--ours-only", "--runs", "2"]
    code = compare.main([*argv, "--output", str(output), "--bench-dir", str(bench_dir)])

    assert code == 0
    text = output.read_text()
    # The figures replace the block in a copy of docs/benchmarks.md; its prose stays.
    prose, block, after = _split_report(text)
    assert (prose, after) == _split_report(report.DOC.read_text())[::2]
    assert "| `--version` |" in block
    assert "| `sync --help` |" not in block  # only what ran
    assert "`python -m benchmarks.compare --only startup/version --ours-only --runs 2 " in block
    assert "(1 warm-up, 2 counted rounds)" in block
    assert re.search(r"\| CPU used by other processes during the run \| \d+\.\d%", block)
    results = json.loads((bench_dir / "results.json").read_text())
    [scenario] = results["scenarios"]
    assert scenario["id"] == "startup/version"
    assert scenario["status"] == "ok"
    [ours] = scenario["sides"]
    assert ours["label"] == "envdrift (this repo)"
    assert len(ours["seconds"]) == 2
    assert len(ours["warmup_seconds"]) == 1
    assert ours["peak_kib"] > 0
    assert not (bench_dir / f"envdrift-{THEIRS_VERSION}").exists()  # no competitor installed

    # A second run replaces the block in place: one report, never two.
    assert compare.main([*argv, "--output", str(output), "--bench-dir", str(bench_dir)]) == 0
    again = output.read_text()
    assert again.count(report.BEGIN) == again.count(report.END) == 1
    assert _split_report(again)[::2] == (prose, after)


def _split_report(text: str) -> tuple[str, str, str]:
    before, _, rest = text.partition(report.BEGIN)
    block, _, after = rest.partition(report.END)
    assert block, "no report block"
    return before, block, after


@pytest.mark.parametrize(
    ("args", "shown"),
    [(["--list", "--quick"], "startup/version"), (["--help"], "--only PATTERN")],
)
def test_runs_as_a_module_from_the_repository(args: list[str], shown: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert shown in done.stdout


def test_the_report_does_not_need_the_scenarios() -> None:
    # Outcome and Scenario live in harness, below both: report imports no compare.
    code = "import sys, benchmarks.report; print('benchmarks.compare' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_the_targets_of_issue_20_have_scenarios() -> None:
    # One mapping per vault against 11.1.1 (the first-run rows docs/benchmarks.md reports),
    # check-decryption of 10 mappings, start-up, and encrypt/decrypt against dotenvx.
    ids = {s.id: s for s in compare.scenarios()}
    for provider in ("aws", "hashicorp"):
        assert f"sync/{provider}/0ms/1/first" in ids
    assert ids["check-decryption/10"].target == 0.05
    assert {"startup/version", "startup/sync-help"} <= set(ids)
    assert {f"{op}/{n}" for op in ("encrypt", "decrypt") for n in (10, 1000)} <= set(ids)


def test_only_matches_whole_parts_or_globs() -> None:
    every = compare.scenarios()

    def ids(*patterns: str, quick: bool = False) -> list[str]:
        return [s.id for s in compare.select(every, patterns, quick)]

    assert ids("encrypt/10") == ["encrypt/10"]
    assert ids("sync/aws/25ms/200/*") == [f"sync/aws/25ms/200/{m}" for m in compare.SYNC_MODES]
    assert set(ids("25ms/200")) == {
        f"sync/{p}/25ms/200/{m}" for p in ("aws", "hashicorp") for m in compare.SYNC_MODES
    }
    assert all(s.quick for s in compare.select(every, [], True))
    assert len(set(s.id for s in every)) == len(every)


def test_failing_scenarios_are_reported_not_fatal(tmp_path: Path) -> None:
    def unpreparable(bench: compare.Bench) -> list[Side]:
        raise RunFailed("the dotenvx CLI is not installed")

    def failing(bench: compare.Bench) -> list[Side]:
        return [_python_side("import sys; print('boom', file=sys.stderr); sys.exit(3)", tmp_path)]

    def no_keys(sample: Sample) -> None:
        raise RunFailed("no keys written")

    def wrong(bench: compare.Bench) -> list[Side]:
        side = _python_side("pass", tmp_path)
        side.check = no_keys
        return [side]

    def fine(bench: compare.Bench) -> list[Side]:
        return [_python_side("pass", tmp_path, "a"), _python_side("pass", tmp_path, "b")]

    scenarios = [
        Scenario(name, "Group", name, prepare)
        for name, prepare in [
            ("unpreparable", unpreparable),
            ("failing", failing),
            ("wrong", wrong),
            ("fine", fine),
        ]
    ]
    lines: list[str] = []
    outcomes = compare.run_scenarios(
        None,  # type: ignore[arg-type]  # the hand-made scenarios never touch the bench
        scenarios,
        runs=2,
        warmups=1,
        log=lines.append,
    )

    assert [o.status for o in outcomes] == ["failed", "failed", "failed", "ok"]
    assert "not installed" in outcomes[0].reason
    assert "exit status 3" in outcomes[1].reason
    assert "boom" in outcomes[1].reason
    assert outcomes[2].reason == "no keys written"
    a, b = outcomes[3].results
    assert (len(a.samples), len(a.warmups), len(b.samples)) == (2, 1, 2)
    assert len(lines) == 4


def test_run_measures_the_process_tree(tmp_path: Path) -> None:
    # A parent holding 40 MB while its child holds 60 MB: the tree's peak is their sum.
    child = "x = b'c' * 60_000_000; import time; time.sleep(0.3)"
    parent = (
        "import subprocess, sys; x = b'p' * 40_000_000; "
        f"subprocess.run([sys.executable, '-c', {child!r}]); print('done')"
    )
    invocation = Invocation((sys.executable, "-c", parent), tmp_path, {"PATH": "/usr/bin:/bin"})

    sample = harness.run(invocation, sample_tree=True)

    assert sample.returncode == 0
    assert sample.stdout == "done\n"
    assert 60_000 <= sample.max_rss_kib < 100_000  # the largest process alone
    assert sample.tree_rss_kib >= 100_000  # both at once
    assert sample.peak_kib >= sample.tree_rss_kib
    assert sample.cpu_seconds > 0


def test_max_rss_does_not_inherit_the_harness_size(tmp_path: Path) -> None:
    # However big the measuring process is, a small command is measured as small.
    ballast = b"h" * 150_000_000
    invocation = Invocation((sys.executable, "-c", "pass"), tmp_path, {"PATH": "/usr/bin:/bin"})
    sample = harness.run(invocation)
    assert ballast
    assert sample.max_rss_kib < 60_000


def test_run_kills_a_command_that_overstays(tmp_path: Path) -> None:
    invocation = Invocation(
        (sys.executable, "-c", "import time; time.sleep(60)"), tmp_path, {"PATH": "/usr/bin"}
    )
    sample = harness.run(invocation, timeout=0.5)
    assert sample.returncode != 0


def test_fixture_files_encrypt_to_the_given_values() -> None:
    key, other = fixtures.private_key(7), fixtures.private_key(8)
    values = fixtures.crypto_values(5)
    text = fixtures.encrypted_env_text(key, values)

    assert fixtures.undecryptable(text, fixtures.keys_file_text(key), values) == []
    assert len(fixtures.undecryptable(text, fixtures.keys_file_text(other), values)) == 5
    assert f'DOTENV_PUBLIC_KEY_PRODUCTION="{fixtures.public_key(key)}"' in text


@pytest.mark.dotenvx
def test_dotenvx_decrypts_the_fixture_files(tmp_path: Path) -> None:
    tool = dotenvx()
    if tool is None:
        pytest.skip("the dotenvx CLI is not installed (scripts/bootstrap.sh)")
    key = fixtures.private_key(9)
    values = fixtures.service_values(9, 5)
    (tmp_path / ".env.production").write_text(fixtures.encrypted_env_text(key, values))
    (tmp_path / ".env.keys").write_text(fixtures.keys_file_text(key))

    done = subprocess.run(
        [*tool.argv("decrypt", "-f", ".env.production", "--stdout")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)},
    )

    assert done.returncode == 0, done.stderr
    for name, value in values:
        assert f'{name}="{value}"' in done.stdout


def test_monorepo_states(tmp_path: Path) -> None:
    repo = fixtures.build_monorepo(tmp_path / "repo", "aws", 3, provider_settings={"region": "x"})
    toml = (repo.root / "envdrift.toml").read_text()
    assert toml.count("[[vault.sync.mappings]]") == 3
    assert 'secret_name = "envdrift-bench-svc-00003"' in toml

    with pytest.raises(AssertionError, match="was not written"):
        repo.check_keys()
    repo.install_keys()
    repo.check_keys()
    repo.services[1].keys_file.write_text(fixtures.keys_file_text(fixtures.private_key(99)))
    with pytest.raises(AssertionError, match="does not hold"):
        repo.check_keys()
    repo.remove_keys()
    assert not any(s.keys_file.exists() for s in repo.services)


def test_profile_reports_calls_and_imports(tmp_path: Path) -> None:
    from benchmarks.profiling import profile_side
    from benchmarks.tools import base_env, ours

    tool = ours()
    # --help, not --version: envdrift --version answers before the CLI is imported.
    invocation = Invocation(tool.argv("--help"), tmp_path, tool.environment(base_env(tmp_path)))

    report = profile_side(Side("ours", invocation), "startup/help", tmp_path / "profiles")

    text = report.read_text()
    assert report.name == "startup_help.txt"
    assert "costliest calls" in text
    assert "envdrift.cli" in text.split("slowest top-level imports")[1]


@pytest.mark.parametrize(
    ("load", "others_cpu", "runs", "expected"),
    [
        (0.3, 0.0, 5, None),
        (0.3, 0.02, 2, "not the 5 after 1"),
        # The CPU others used decides, not the load the benchmark made itself.
        (99.0, 0.02, 5, None),
        (0.3, 0.4, 5, "busy machine (other processes used 40% of its"),
    ],
)
def test_report_flags_figures_that_cannot_be_quoted(
    load: float, others_cpu: float, runs: int, expected: str | None
) -> None:
    meta = report.Meta(
        command="x",
        tools=[],
        servers=[],
        runs=runs,
        warmups=1,
        seconds=1.0,
        load_before=(load, load, load),
        load_after=(load, load, load),
        others_cpu=others_cpu,
    )
    top = report.markdown([], meta).split("These figures were made")[0]
    if expected is None:
        assert "Provisional" not in top
    else:
        assert "Provisional figures" in top
        assert expected in top


def test_profile_of_a_command_that_execs_keeps_the_import_profile(tmp_path: Path) -> None:
    # `envdrift run` replaces its process with the command: cProfile never writes.
    from benchmarks.profiling import profile_side
    from benchmarks.tools import base_env, ours

    (tmp_path / ".env").write_text("A=1\n")
    tool = ours()
    argv = tool.argv("run", "-f", ".env", "--", "true")
    invocation = Invocation(argv, tmp_path, tool.environment(base_env(tmp_path)))

    report = profile_side(Side("ours", invocation), "run/1", tmp_path / "profiles")

    text = report.read_text()
    assert "(none: the process replaced itself" in text
    assert "envdrift.cli" in text.split("slowest top-level imports")[1]


def test_sync_scenario_ids_have_the_parts_the_report_reads() -> None:
    # report._scaling reads sync/<vault>/<delay>/<size>/<mode>; a shorter id under sync/
    # crashed the report after a whole run.
    ids = [s.id for s in compare.scenarios()]
    assert "files/sync/1" in ids
    assert all(len(i.split("/")) == 5 for i in ids if i.startswith("sync/"))
