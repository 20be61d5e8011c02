"""``.pre-commit-hooks.yaml``, run by the real ``pre-commit`` from PyPI.

A user's pre-commit clones this repository and, for a ``language: python`` hook, runs
``pip install . <additional_dependencies>`` in the clone. ``.`` is the metadata-only
``envdrift`` distribution, whose exact pin on ``envdrift-core`` no package index can
meet while envdrift-core is unpublished: the hooks list ``./envdrift-core`` so that the
pin is met from the same clone. These tests prove it the way a user meets it:

- ``checkout``: a git repository holding this working tree's files (committed and not),
  the "checkout" that ``pre-commit try-repo`` is pointed at;
- ``project``: a scratch git repository with several encrypted env files, staged.

``try-repo`` builds a fresh hook environment on every call (pip from the index, through
the developer's pip cache); the other tests share one through ``pre-commit run`` with a
config file and one ``PRE_COMMIT_HOME``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import Result
from envdrift.cli import cli

from tests.gitrepo import git, git_env
from tests.helpers import PRIVATE_KEY_SHAPE
from tests.venvs import REPO_ROOT, copy_working_tree, pip_env

HOOKS = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())

RunCli = Callable[..., Result]
SECRET_VALUE = "s3cr3t-plaintext-value"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This working tree's files as a committed repository: ``(path, commit)``."""
    root = copy_working_tree(tmp_path_factory.mktemp("checkout"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "checkout")
    return root, git(root, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook-environment store for the ``pre-commit run`` tests of this module."""
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(
    project: Path, *args: str, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**git_env(), **pip_env(), "NO_COLOR": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("DOTENV_PRIVATE_KEY")}
    if home is not None:
        env["PRE_COMMIT_HOME"] = str(home)
    else:
        env.pop("PRE_COMMIT_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: RunCli) -> Path:
    """A scratch repository with two encrypted env files in two services, staged."""
    root = tmp_path / "project"
    for folder, name in (("a", ".env.production"), ("b", ".env.staging")):
        (root / folder).mkdir(parents=True)
        (root / folder / name).write_text(f"DATABASE_URL=postgres://{folder}\nTOKEN=t-{folder}\n")
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    result = envdrift_cli("encrypt", "a/.env.production", "b/.env.staging")
    assert result.exit_code == 0, result.output
    git(root, "add", "a/.env.production", "b/.env.staging", ".gitignore")
    return root


def config(project: Path, checkout: tuple[Path, str], *hooks: str) -> str:
    path, rev = checkout
    listed = "".join(f"      - id: {hook}\n" for hook in hooks)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {path}\n    rev: {rev}\n    hooks:\n{listed}"
    )
    git(project, "add", ".pre-commit-config.yaml")
    return ".pre-commit-config.yaml"


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_every_hook_command_takes_many_files(hook: dict[str, Any]) -> None:
    # pre-commit appends the staged files to `entry`: the command must accept several.
    program, subcommand, *options = hook["entry"].split()
    assert program == "envdrift"
    command = cli.get_command(click.Context(cli), subcommand)
    assert command is not None
    files = ["a/.env.production", "b/.env.staging", "c/.env"]
    with command.make_context(subcommand, [*options, *files]) as ctx:
        assert [str(f) for f in ctx.params["files"]] == files
    assert hook["language"] == "python"
    assert "./envdrift-core" in hook["additional_dependencies"]


def test_the_hooks_the_issue_asks_for_exist() -> None:
    ids = {hook["id"]: hook for hook in HOOKS}
    assert {"envdrift-encrypted", "envdrift-keys-not-committed"} <= set(ids)
    assert ids["envdrift-verify-vault"]["stages"] == ["manual"]


@pytest.mark.slow
def test_try_repo_encrypted_passes_two_encrypted_files_and_names_a_plaintext_key(
    project: Path, checkout: tuple[Path, str]
) -> None:
    files = ("--files", "a/.env.production", "b/.env.staging")
    passed = pre_commit(project, "try-repo", str(checkout[0]), "envdrift-encrypted", *files)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"envdrift - env files hold no plaintext value\.+Passed", passed.stdout)

    with (project / "b/.env.staging").open("a") as env_file:
        env_file.write(f"NEW_API_KEY={SECRET_VALUE}\n")
    git(project, "add", "b/.env.staging")
    failed = pre_commit(project, "try-repo", str(checkout[0]), "envdrift-encrypted", *files)

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "b/.env.staging: 1 plaintext value: NEW_API_KEY" in failed.stdout
    assert SECRET_VALUE not in failed.stdout + failed.stderr


@pytest.mark.slow
def test_keys_not_committed_names_a_staged_keys_file_never_the_key(
    project: Path, checkout: tuple[Path, str], pre_commit_home: Path
) -> None:
    config(project, checkout, "envdrift-encrypted", "envdrift-keys-not-committed")
    clean = pre_commit(project, "run", home=pre_commit_home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"envdrift - no private key is committed\.+Passed", clean.stdout)

    git(project, "add", "-f", "a/.env.keys")
    (project / "notes.txt").write_text("ops notes\n")
    (project / "pasted.txt").write_text((project / "b/.env.keys").read_text())
    git(project, "add", "notes.txt", "pasted.txt")
    failed = pre_commit(project, "run", home=pre_commit_home)

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Error: a/.env.keys is a keys file (private keys)" in failed.stdout
    assert "Error: pasted.txt, line 8: DOTENV_PRIVATE_KEY_STAGING holds a private key" in (
        failed.stdout
    )
    assert "notes.txt" not in failed.stdout
    assert PRIVATE_KEY_SHAPE.search(failed.stdout + failed.stderr) is None
    # The encrypted files still pass: only the keys hook fails.
    assert re.search(r"envdrift - env files hold no plaintext value\.+Passed", failed.stdout)


@pytest.mark.slow
def test_verify_vault_runs_on_the_manual_stage_over_many_files(
    project: Path, checkout: tuple[Path, str], pre_commit_home: Path
) -> None:
    # The built-in files vault holds each service's key, as sync would fetch it.
    vault = project.parent / "vault"
    vault.mkdir()
    for folder, env in (("a", "PRODUCTION"), ("b", "STAGING")):
        key = (project / folder / ".env.keys").read_text().split(f"DOTENV_PRIVATE_KEY_{env}=")[1]
        (vault / f"{folder}-key").write_text(key.strip())
    (project / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n\n[vault.files]\npath = "../vault"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "a-key"\nfolder_path = "a"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "b-key"\nfolder_path = "b"\n'
        'environment = "staging"\n'
    )
    config(project, checkout, "envdrift-verify-vault")
    skipped = pre_commit(project, "run", home=pre_commit_home)
    assert "envdrift - the vault's key opens" not in skipped.stdout  # manual only

    passed = pre_commit(project, "run", "--hook-stage", "manual", home=pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    (vault / "b-key").write_text("cd" * 32)  # the vault moved on: b's file drifted
    failed = pre_commit(project, "run", "--hook-stage", "manual", "--verbose", home=pre_commit_home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "b/.env.staging was encrypted with a different key" in failed.stdout
    assert "envdrift decrypt b/.env.staging --verify-vault --repair" in failed.stdout
    assert PRIVATE_KEY_SHAPE.search(failed.stdout + failed.stderr) is None
