"""A teammate's stray key: ``decrypt --verify-vault --repair``, and ``encrypt`` never making one.

Everything runs against the built-in ``files`` vault (a real directory of secrets) in a
real git repository, the way a team meets the problem: the vault holds the key, a
teammate without it encrypts an edit with a new pair, and the file no longer opens with
the vault's key.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from envdrift.dotenvx.crypto import Encryptor, generate_keypair
from envdrift.dotenvx.keysfile import KeysFile

from tests.core.stray_helpers import (
    EDITED,
    FILE,
    KEY_NAME,
    KEYS,
    ORIGINAL,
    RunCli,
    local_key,
    make_project,
    stray_edit,
    vault_file,
    vault_key,
)
from tests.gitrepo import git


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: RunCli) -> Path:
    """A git repo whose committed file opens with the vault's key (and that key is local)."""
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    return make_project(tmp_path, envdrift_cli, git_first=True)


def plaintext(envdrift_cli: RunCli, env: dict[str, str] | None = None) -> str:
    result = envdrift_cli("decrypt", FILE, "--stdout", env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.split(f"# {Path(FILE).name}\n", 1)[1]


# -- --repair --------------------------------------------------------------------------


def test_repair_keeps_the_teammates_edit_and_the_vault_key_then_opens_it(
    repo: Path, envdrift_cli: RunCli
) -> None:
    stray = stray_edit(repo, envdrift_cli)
    assert envdrift_cli("decrypt", FILE, "--verify-vault").exit_code == 1

    result = envdrift_cli("decrypt", FILE, "--verify-vault", "--repair", "--ci")

    assert result.exit_code == 0, result.output
    assert f"repaired {FILE}: 3 values re-encrypted" in result.stdout
    assert f"  {KEYS}: {KEY_NAME} is the vault's key (the previous file is kept in " in (
        result.stdout
    )
    assert "DATABASE_URL, API_TOKEN, GREETING" in result.stdout
    assert "tok-456" not in result.output  # names, never values
    # The vault's key now opens the file, and the edit survived, comments and order kept.
    assert local_key(repo) == vault_key(repo)
    assert envdrift_cli("decrypt", FILE, "--verify-vault", "--ci").exit_code == 0
    assert plaintext(envdrift_cli) == EDITED
    # The stray key is kept in a 0600 backup that git ignores.
    backups = sorted((repo / "services/app").glob(".env.keys.backup.*"))
    assert len(backups) == 1
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert KeysFile.read(backups[0]).get(KEY_NAME).reveal() == stray  # type: ignore[union-attr]
    assert git(repo, "status", "--porcelain", "--untracked-files=all").split() == [
        "M",
        FILE,
        "??",
        ".gitignore",
    ]


def test_repair_touches_only_values_the_vault_key_does_not_open(
    repo: Path, envdrift_cli: RunCli
) -> None:
    # Half a file: one value added with a stray key next to values the vault's key opens.
    stray = generate_keypair()
    added = f'EXTRA="{Encryptor(stray.public_key).encrypt("new value")}"\n'
    (repo / FILE).write_text((repo / FILE).read_text() + added)
    before = (repo / FILE).read_text()
    env = {"DOTENV_PRIVATE_KEY_STRAY": stray.private_key.reveal()}

    result = envdrift_cli("decrypt", FILE, "--verify-vault", "--repair", env=env)

    assert result.exit_code == 0, result.output
    assert "1 value re-encrypted" in result.stdout
    assert "EXTRA" in result.stdout
    assert "3 already opened with the vault's key" in result.stdout
    after = (repo / FILE).read_text()
    unchanged = [line for line in before.splitlines() if not line.startswith("EXTRA=")]
    assert [line for line in after.splitlines() if not line.startswith("EXTRA=")] == unchanged
    assert plaintext(envdrift_cli).endswith('EXTRA="new value"\n')


def test_repair_without_a_key_that_opens_the_file_changes_nothing_and_warns_first(
    repo: Path, envdrift_cli: RunCli
) -> None:
    stray_edit(repo, envdrift_cli)
    (repo / KEYS).unlink()  # the stray key is gone: nobody here can read the edit
    before = (repo / FILE).read_bytes()

    result = envdrift_cli("decrypt", FILE, "--verify-vault", "--repair", "--ci")

    assert result.exit_code == 1
    assert (repo / FILE).read_bytes() == before
    assert not (repo / KEYS).exists()
    lines = result.stderr.splitlines()
    assert "no key held here opens DATABASE_URL, API_TOKEN, GREETING" in result.stderr
    warning = next(i for i, line in enumerate(lines) if line.startswith("Warning: step 1"))
    assert "discards every uncommitted change" in lines[warning]
    assert f"cp {FILE} {FILE}.mine" in lines[warning]
    assert lines[warning + 1 :] == [
        "To repair:",
        f"  1. git restore {FILE}",
        "  2. envdrift sync --force",
        f"  3. envdrift encrypt {FILE}",
    ]


def test_failing_verify_names_repair_before_the_three_steps(
    repo: Path, envdrift_cli: RunCli
) -> None:
    stray_edit(repo, envdrift_cli)
    result = envdrift_cli("decrypt", FILE, "--verify-vault", "--ci")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    repair = lines.index(f"  envdrift decrypt {FILE} --verify-vault --repair")
    assert repair < lines.index(f"  1. git restore {FILE}")
    assert lines[-4:] == [
        "To repair:",
        f"  1. git restore {FILE}",
        "  2. envdrift sync --force",
        f"  3. envdrift encrypt {FILE}",
    ]
    document = json.loads(
        envdrift_cli("decrypt", FILE, "--verify-vault", "--format", "json").stdout
    )
    assert document["repair_keeping_values"] == f"envdrift decrypt {FILE} --verify-vault --repair"
    assert document["repair"][0] == f"git restore {FILE}"
    assert document["warning"].startswith("step 1 discards")


def test_repair_of_a_file_that_already_verifies_changes_nothing(
    repo: Path, envdrift_cli: RunCli
) -> None:
    before = (repo / FILE).read_bytes(), (repo / KEYS).read_bytes()
    result = envdrift_cli("decrypt", FILE, "--verify-vault", "--repair")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: the key in vault 'files'")
    assert ((repo / FILE).read_bytes(), (repo / KEYS).read_bytes()) == before


def test_verify_vault_takes_many_files(repo: Path, envdrift_cli: RunCli) -> None:
    (repo / "services/app/.env.staging").write_text("A=1\n")
    result = envdrift_cli(
        "decrypt", FILE, "services/app/.env.staging", "--verify-vault", "--format", "json"
    )
    document = json.loads(result.stdout)
    assert [d["ok"] for d in document["files"]] == [True, False]
    assert "nothing to verify" in document["files"][1]["error"]
    assert result.exit_code == document["exit_code"] == 2


# -- encrypt in a mapped folder -----------------------------------------------------------


def test_encrypt_in_a_mapped_folder_uses_the_vaults_key(repo: Path, envdrift_cli: RunCli) -> None:
    (repo / KEYS).unlink()
    (repo / "services/app/.env.production").write_text(EDITED)
    result = envdrift_cli("encrypt", FILE)
    assert result.exit_code == 0, result.output
    assert "using the vault's key (secret 'app-key' in vault 'files'" in result.stderr
    assert "created a key pair" not in result.stderr
    assert local_key(repo) == vault_key(repo)
    assert envdrift_cli("decrypt", FILE, "--verify-vault").exit_code == 0


def test_encrypt_makes_a_new_pair_only_when_the_vault_has_none_and_says_push(
    repo: Path, envdrift_cli: RunCli
) -> None:
    vault_file(repo).unlink()
    (repo / KEYS).unlink()
    (repo / FILE).write_text(ORIGINAL)
    result = envdrift_cli("encrypt", FILE)
    assert result.exit_code == 0, result.output
    assert "created a key pair" in result.stderr
    first_push = "envdrift vault-push services/app app-key --env production`"
    assert f"holds no key yet (first setup): run `{first_push}" in result.stderr


def test_encrypt_stops_naming_sync_when_the_vault_cannot_be_read(
    repo: Path, envdrift_cli: RunCli
) -> None:
    (repo / KEYS).unlink()
    (repo / FILE).write_text(ORIGINAL)
    vault_file(repo).write_text("not a private key")  # the vault answers, but not a key
    result = envdrift_cli("encrypt", FILE)
    assert result.exit_code == 1
    assert "Run `envdrift sync --force`" in result.stderr
    assert "--new-key" in result.stderr
    assert (repo / FILE).read_text() == ORIGINAL
    assert not (repo / KEYS).exists()


def test_encrypt_new_key_makes_a_pair_on_purpose(repo: Path, envdrift_cli: RunCli) -> None:
    (repo / KEYS).unlink()
    (repo / FILE).write_text(ORIGINAL)
    result = envdrift_cli("encrypt", "--new-key", FILE)
    assert result.exit_code == 0
    assert "created a key pair" in result.stderr
    assert local_key(repo) != vault_key(repo)


# -- decrypt after a rotation ------------------------------------------------------------


def test_decrypt_with_an_old_key_names_sync_force_for_a_mapped_file(
    repo: Path, envdrift_cli: RunCli
) -> None:
    old = local_key(repo)
    assert envdrift_cli("rotate", FILE).exit_code == 0
    # A teammate pulls the rotated file but still holds the old key.
    KeysFile.read(repo / KEYS)
    (repo / KEYS).write_text(f"{KEY_NAME}={old}\n")
    result = envdrift_cli("decrypt", FILE)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: could not decrypt")
    assert "run `envdrift sync --force` to fetch the current key" in result.stderr
    assert envdrift_cli("sync", "--force").exit_code == 0
    assert envdrift_cli("decrypt", FILE).exit_code == 0


def test_no_git_restore_step_when_the_committed_file_does_not_open_either(
    repo: Path, envdrift_cli: RunCli
) -> None:
    # The stray version was committed (and pushed): restoring it repairs nothing.
    stray_edit(repo, envdrift_cli)
    git(repo, "commit", "-q", "-am", "teammate's edit, with a stray key")
    (repo / KEYS).unlink()

    result = envdrift_cli("decrypt", FILE, "--verify-vault", "--ci", "--format", "json")

    assert result.exit_code == 1
    assert f"1. git restore {FILE}" not in result.stderr
    assert f"The committed {FILE} does not open with the vault's key either" in result.stderr
    assert f"  envdrift decrypt {FILE} --verify-vault --repair" in result.stderr
    document = json.loads(result.stdout)
    assert document["repair"] == []
    assert document["warning"] is None


def test_repair_of_a_tracked_keys_file_says_so_and_fails_under_ci(
    repo: Path, envdrift_cli: RunCli
) -> None:
    stray_edit(repo, envdrift_cli)
    git(repo, "add", "-f", KEYS)
    git(repo, "commit", "-q", "-m", "the keys, by mistake")

    result = envdrift_cli("decrypt", FILE, "--verify-vault", "--repair", "--ci", "--format", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["exit_code"] == 1
    assert f"Warning: {KEYS} is tracked by git" in result.stderr
    assert envdrift_cli("decrypt", FILE, "--verify-vault").exit_code == 0  # repaired all the same
