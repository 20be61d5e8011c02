"""``.pre-commit-config.yaml``, the contributors' checks, run by the real ``pre-commit``.

In a git repository holding this working tree's files: every hook passes on the tree as
it is, and a badly formatted file, a file without a final newline and a broken TOML file
each fail their hook. ``docs-generated`` runs this checkout's ``.venv`` (tests/test_docs.py
checks the same), so it is skipped here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.venvs import copy_working_tree, pip_env

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

GIT_IDENTITY = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def run(root: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**pip_env(), **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home), "SKIP": "docs-generated"}
    return subprocess.run(
        list(args), cwd=root, env=env, capture_output=True, text=True, timeout=900
    )


def test_the_contributor_hooks_pass_on_the_tree_and_catch_each_problem(tmp_path: Path) -> None:
    root = copy_working_tree(tmp_path / "envdrift")
    home = tmp_path / "pre-commit-home"
    for command in (["git", "init", "-q"], ["git", "add", "-A"]):
        assert run(root, *command, home=home).returncode == 0
    pre_commit = [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"]

    clean = run(root, *pre_commit, home=home)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (root / "envdrift-core" / "src" / "envdrift" / "messy.py").write_text("x=( 1,2 )\n")
    (root / "CONTRIBUTING.md").write_text((root / "CONTRIBUTING.md").read_text().rstrip())
    (root / "broken.toml").write_text("[table\n")
    assert run(root, "git", "add", "-A", home=home).returncode == 0
    dirty = run(root, *pre_commit, home=home)
    assert dirty.returncode == 1, dirty.stdout + dirty.stderr
    failed = {
        line.split(".", 1)[0] for line in dirty.stdout.splitlines() if line.endswith("Failed")
    }
    assert failed == {"ruff format", "files end with one newline", "TOML files parse"}, dirty.stdout
