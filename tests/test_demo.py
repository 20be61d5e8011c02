"""``scripts/demo.sh files`` (the README's first command, one provider): it runs end to end
and shows what a user writes and types: the config, every git command, a why per step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.demo import Demo, Provider

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_files_demo_runs_and_shows_what_a_user_writes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOTENV_", "ENVDRIFT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "scripts.demo", "files"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert 'provider = "files"' in out
    assert "[[vault.sync.mappings]]" in out
    for command in (
        "alice$ git init",
        "alice$ git add -A && git status --short",
        "bob$ git clone -q ../alice .",
        "carol$ envdrift encrypt --new-key services/auth/.env.production",
        "carol$ envdrift decrypt services/auth/.env.production --verify-vault --repair",
        "bob$ envdrift pull",
        "bob$ envdrift lock",
        "bob$ envdrift run -f services/app/.env.production -- printenv DATABASE_URL",
        "alice$ envdrift rotate services/auth/.env.production",
    ):
        assert command in out
    assert "# Bob clones" in out  # a why before the step
    assert "What to run on your own project" in out
    assert "✗" not in out


def test_a_later_provider_shows_only_what_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("one", "two"):
        (tmp_path / name / "alice").mkdir(parents=True)
    first = Demo(tmp_path / "one", Provider("one", "one", ""))
    later = Demo(tmp_path / "two", Provider("two", "two", ""), reference=first)
    later.run("alice", "echo same; echo \"vault 'two' (y) at $PWD\"; echo second", step="s")
    later.run("alice", "echo unchanged", step="t")
    assert capsys.readouterr().out == ""  # kept until the first provider is done
    first.run("alice", "echo same; echo \"vault 'one' (x) at $PWD\"; echo first", step="s")
    first.run("alice", "echo unchanged", step="t")
    later.replay()
    shown = capsys.readouterr().out.split("alice$")
    assert len(shown) == 4  # two full runs, then one for the step that differs
    assert shown[-1].splitlines()[1:3] == ["    second", ""]  # only the line that differs
    assert "1 of 2 commands printed what they printed on one" in shown[-1]
    assert later.failures == []


def test_a_step_that_misbehaves_fails_the_demo(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    demo = Demo(tmp_path, Provider("one", "one", ""))
    demo.run("alice", "echo hello", expect=["goodbye"])
    demo.run("alice", "exit 3")
    assert demo.failures == [
        "one: alice: echo hello (missing 'goodbye')",
        "one: alice: exit 3 (exit 3, expected 0)",
    ]
