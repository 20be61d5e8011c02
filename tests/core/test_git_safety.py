"""Nothing key-bearing is ever offered to ``git add -A``, whichever command wrote it.

Each writing command runs alone in a real git repository that has no ``.gitignore``;
afterwards ``git status --porcelain --untracked-files=all`` (what ``git add -A`` would
take) must list no file holding a private key: no ``.env.keys``, no backup of one, no
temporary file, whatever its name. The vault (the built-in ``files`` vault) lives beside
the repository, as a real vault lives elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.stray_helpers import (
    CONFIG,
    FILE,
    KEYS,
    ORIGINAL,
    RunCli,
    make_project,
    stray_edit,
)
from tests.gitrepo import git
from tests.helpers import PRIVATE_KEY_SHAPE


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: RunCli) -> Path:
    """A committed project with an encrypted file, its key in the vault and in .env.keys,
    and no .gitignore anywhere."""
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    root = make_project(tmp_path, envdrift_cli, git_first=False)
    assert not (root / ".gitignore").exists()
    return root


def offered(root: Path) -> dict[str, str]:
    """Each path ``git add -A`` would take (status code by path)."""
    lines = git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    return {line[3:]: line[:2] for line in lines}


def key_bearing(root: Path) -> list[str]:
    """The offered paths that hold a private key, by name or by content."""
    found = []
    for path in offered(root):
        name = Path(path).name
        text = (root / path).read_text(errors="replace") if (root / path).is_file() else ""
        if name.startswith((".env.keys", ".envdrift-tmp-")) or PRIVATE_KEY_SHAPE.search(text):
            found.append(path)
    return found


def other_vault_key(repo: Path, envdrift_cli: RunCli) -> None:
    """The vault's key changed (a rotation elsewhere): ``sync --force`` replaces ours."""
    (repo.parent / "vault/app-key").write_text("cd" * 32)


def fresh_clone(repo: Path, envdrift_cli: RunCli) -> None:
    """No local keys at all: what a teammate's clone starts with."""
    (repo / KEYS).unlink()


def fresh_clone_with_plaintext(repo: Path, envdrift_cli: RunCli) -> None:
    """A clone whose file is plaintext again: ``encrypt`` must find it a key."""
    fresh_clone(repo, envdrift_cli)
    (repo / FILE).write_text(ORIGINAL)


def stray_key(repo: Path, envdrift_cli: RunCli) -> None:
    """A teammate's edit encrypted with a stray key (that encrypt protected its own key)."""
    stray_edit(repo, envdrift_cli)
    (repo / ".gitignore").unlink()


def nothing(repo: Path, envdrift_cli: RunCli) -> None:
    pass


SCENARIOS: dict[str, tuple[Callable[[Path, RunCli], None], tuple[str, ...]]] = {
    "sync": (fresh_clone, ("sync",)),
    "pull": (fresh_clone, ("pull",)),
    "sync --force": (other_vault_key, ("sync", "--force")),
    "rotate": (nothing, ("rotate", FILE)),
    "encrypt": (fresh_clone_with_plaintext, ("encrypt", FILE)),
    "encrypt --new-key": (fresh_clone_with_plaintext, ("encrypt", "--new-key", FILE)),
    "decrypt --repair": (stray_key, ("decrypt", FILE, "--verify-vault", "--repair")),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_writing_command_offers_a_key_to_git_add(
    repo: Path, envdrift_cli: RunCli, name: str
) -> None:
    prepare, args = SCENARIOS[name]
    prepare(repo, envdrift_cli)
    assert not (repo / ".gitignore").exists()

    result = envdrift_cli(*args)

    assert result.exit_code == 0, result.output
    assert key_bearing(repo) == []
    written = sorted(p.name for p in (repo / "services/app").iterdir())
    assert ".env.keys" in written
    if name in {"sync --force", "rotate", "decrypt --repair"}:
        assert any(n.startswith(".env.keys.backup.") for n in written), written
    assert offered(repo).get(".gitignore") == "??"
    assert result.stderr.count("to .gitignore") == 1  # said once


def test_a_temporary_file_left_by_a_killed_run_is_ignored(repo: Path, envdrift_cli: RunCli) -> None:
    assert envdrift_cli("sync").exit_code == 0
    leftover = repo / "services/app/.envdrift-tmp-999999-abc"
    leftover.write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={'ab' * 32}\n")
    assert key_bearing(repo) == []


def test_an_existing_ignore_rule_is_enough(repo: Path, envdrift_cli: RunCli) -> None:
    (repo / ".gitignore").write_text(".env.keys*\n.envdrift-tmp-*\n")
    result = envdrift_cli("sync", "--force")
    assert result.exit_code == 0
    assert (repo / ".gitignore").read_text() == ".env.keys*\n.envdrift-tmp-*\n"
    assert ".gitignore" not in result.stderr


def test_outside_a_work_tree_no_gitignore_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: RunCli
) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    monkeypatch.chdir(tmp_path)
    assert envdrift_cli("encrypt").exit_code == 0
    assert not (tmp_path / ".gitignore").exists()


def test_git_is_run_inside_a_work_tree_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: RunCli
) -> None:
    # Most runs outside a work tree are CI jobs and containers: no git process for them.
    real_git = shutil.which("git")
    assert real_git is not None
    calls = tmp_path / "git-calls"
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexec "{real_git}" "$@"\n')
    fake.chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text("A=1\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")

    assert envdrift_cli("encrypt").exit_code == 0

    assert (project / ".env.keys").exists()
    assert not calls.exists()
    git(project, "init", "-q")  # now the same write is inside a work tree
    (project / ".env.staging").write_text("B=2\n")
    assert envdrift_cli("encrypt", ".env.staging").exit_code == 0
    assert "check-ignore" in calls.read_text()
    assert ".env.keys" in (project / ".gitignore").read_text()


def test_a_tracked_keys_file_is_reported_loudly_and_fails_under_ci(
    repo: Path, envdrift_cli: RunCli
) -> None:
    git(repo, "add", "-f", KEYS)
    git(repo, "commit", "-q", "-m", "oops: the keys")
    other_vault_key(repo, envdrift_cli)

    result = envdrift_cli("sync", "--force")

    assert result.exit_code == 0
    warning = f"Warning: {KEYS} is tracked by git: the private keys in it are in the repository"
    assert warning in result.stderr
    assert f"git rm --cached {KEYS}" in result.stderr
    ci = envdrift_cli("sync", "--ci")
    assert ci.exit_code == 1
    assert warning in ci.stderr


# -- envdrift check-keys (the envdrift-keys-not-committed hook) -------------------------


def test_check_keys_names_key_bearing_files_never_the_key(repo: Path, envdrift_cli: RunCli) -> None:
    assert envdrift_cli("sync", "--force").exit_code == 0
    (repo / "notes.txt").write_text("DOTENV_PUBLIC_KEY_PRODUCTION=02ab\nNAME=x\n")
    (repo / "copy.txt").write_text("x\n" + (repo / KEYS).read_text())
    backup = repo / "services/app/.env.keys.backup.20261206T000000Z"
    backup.write_text("")
    files = [KEYS, str(backup.relative_to(repo)), "copy.txt", "notes.txt", FILE, "gone.txt"]

    result = envdrift_cli("check-keys", *files)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[:3] == [
        f"Error: {KEYS} is a keys file (private keys)",
        f"Error: {backup.relative_to(repo)} is a backup of a keys file (private keys)",
        "Error: copy.txt, line 9: DOTENV_PRIVATE_KEY_PRODUCTION holds a private key",
    ]
    assert "notes.txt" not in result.output
    clean = envdrift_cli("check-keys", "notes.txt", FILE)
    assert clean.exit_code == 0
    assert clean.stdout == "no private keys in 2 files\n"


def test_check_keys_without_files_checks_what_git_tracks(repo: Path, envdrift_cli: RunCli) -> None:
    assert envdrift_cli("check-keys").exit_code == 0
    git(repo, "add", "-f", KEYS)
    git(repo, "commit", "-q", "-m", "oops")
    result = envdrift_cli("check-keys")
    assert result.exit_code == 1
    assert f"Error: {KEYS} is a keys file" in result.stderr


def test_a_rule_that_re_includes_the_keys_file_is_reported(
    repo: Path, envdrift_cli: RunCli
) -> None:
    # A deeper .gitignore wins over the top-level one envdrift writes to.
    (repo / "services/app/.gitignore").write_text("!.env.keys\n")
    result = envdrift_cli("sync", "--force")
    assert result.exit_code == 0
    assert f"Warning: git does not ignore {KEYS}, so `git add -A` would take it" in (result.stderr)
    assert KEYS in key_bearing(repo)  # what the warning is about: it is really offered


def test_inside_a_git_hook_the_work_tree_of_the_keys_file_is_asked(
    repo: Path, envdrift_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Git hooks run with GIT_DIR and GIT_INDEX_FILE set; they may name another repository.
    git(repo, "add", "-f", KEYS)
    git(repo, "commit", "-q", "-m", "the keys, by mistake")
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    (repo.parent / "vault/app-key").write_text("cd" * 32)

    result = envdrift_cli("sync", "--force")

    assert result.exit_code == 0
    assert f"Warning: {KEYS} is tracked by git" in result.stderr


@pytest.mark.parametrize("vault_path", ["vault", "."])
def test_a_files_vault_inside_the_repository_keeps_its_secrets_out_of_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: RunCli, vault_path: str
) -> None:
    # Only the secrets envdrift writes are ignored: the folder's other files (here the
    # whole project, for path = ".") stay in git.
    root = tmp_path / "repo"
    (root / "services/app").mkdir(parents=True)
    monkeypatch.chdir(root)
    git(root, "init", "-q")
    (root / "envdrift.toml").write_text(
        CONFIG.replace('"../vault"', f'"{vault_path}"').replace(
            'secret_name = "app-key"', 'secret_name = "keys/app*key [prod]"'
        )
    )
    (root / FILE).write_text(ORIGINAL)
    vault = root / vault_path
    (vault / "README.md").parent.mkdir(exist_ok=True)
    (vault / "README.md").write_text("how we keep secrets\n")
    assert envdrift_cli("encrypt", FILE).exit_code == 0
    result = envdrift_cli("vault-push")
    assert result.exit_code == 0, result.output

    assert (vault / "keys/app*key [prod]").is_file()
    assert [p for p in offered(root) if "app*key" in p] == []  # the bare key in the vault
    assert key_bearing(root) == []
    paths = offered(root)
    assert f"{vault_path}/README.md".removeprefix("./") in paths
    assert {"envdrift.toml", FILE} <= set(paths)
    # A file beside the secret whose name the pattern would match unescaped stays offered.
    (vault / "keys/appXkey p").write_text("not a secret\n")
    assert [p for p in offered(root) if "appXkey p" in p] != []  # git quotes it
    # A second secret gets its own line; the first keeps its.
    assert envdrift_cli("vault-push", "services/app", "other-key").exit_code == 0
    assert [p for p in offered(root) if "key" in p.rsplit("/", 1)[-1]] == [
        p for p in offered(root) if "appXkey" in p
    ]
