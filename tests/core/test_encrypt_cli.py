"""``envdrift encrypt``: key creation and reuse, idempotence, --check, refusals."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from envdrift.dotenvx.crypto import decrypt_value, generate_keypair, public_key_of
from envdrift.dotenvx.envfile import EnvFile
from envdrift.dotenvx.keysfile import KEYS_HEADER, KeysFile, update_keys_file
from envdrift.dotenvx.operations import public_key_header
from envdrift.secrets import Secret

from tests.gitrepo import git

Run = Callable[..., Result]

PLAIN = 'export A="hello world" # c\nB=x#y\nEMPTY=\nX_PLAIN=visible\n'


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def values_of(path: Path, key: Secret) -> dict[str, str]:
    out = {}
    for entry in EnvFile.read(path).entries:
        assert entry.value is not None
        is_ct = entry.value.startswith("encrypted:")
        out[entry.key] = decrypt_value(key, entry.value) if is_ct else entry.value
    return out


def committed_encrypted(envdrift_cli: Run, root: Path, name: str, text: str) -> Path:
    """``root/name`` holding ``text``, encrypted and committed in a new git repository."""
    git(root, "init", "-q")
    env = root / name
    env.write_text(text)
    assert envdrift_cli("encrypt", name).exit_code == 0
    git(root, "add", name)
    git(root, "commit", "-q", "-m", "encrypted")
    return env


def test_new_file_gets_key_pair_header_and_ciphertexts(envdrift_cli: Run, tmp_path: Path) -> None:
    env = tmp_path / ".env.production"
    env.write_text(PLAIN)
    result = envdrift_cli("encrypt", ".env.production")
    assert result.exit_code == 0, result.output
    assert "encrypted .env.production (3 values)" in result.stdout
    keys = KeysFile.read(tmp_path / ".env.keys")
    private = keys.get("DOTENV_PRIVATE_KEY_PRODUCTION")
    assert private is not None
    assert keys.render().startswith(KEYS_HEADER.encode() + b"\n# .env.production\n")
    assert stat.S_IMODE((tmp_path / ".env.keys").stat().st_mode) == 0o600
    text = env.read_text()
    header = public_key_header(
        "DOTENV_PUBLIC_KEY_PRODUCTION", public_key_of(private), ".env.production"
    )
    assert text.startswith(header)
    assert "hello world" not in text
    assert "X_PLAIN=visible" in text
    assert "#y\n" in text
    assert values_of(env, private) == {
        "DOTENV_PUBLIC_KEY_PRODUCTION": public_key_of(private),
        "A": "hello world",
        "B": "x",
        "EMPTY": "",
        "X_PLAIN": "visible",
    }


def test_second_run_changes_nothing(envdrift_cli: Run, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(PLAIN)
    assert envdrift_cli("encrypt").exit_code == 0
    before = env.read_bytes(), (tmp_path / ".env.keys").read_bytes()
    result = envdrift_cli("encrypt", ".env")
    assert result.exit_code == 0
    assert "no change to .env" in result.stdout
    assert (env.read_bytes(), (tmp_path / ".env.keys").read_bytes()) == before


def test_new_value_in_encrypted_file_uses_its_public_key(envdrift_cli: Run, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1\n")
    envdrift_cli("encrypt")
    keys_before = (tmp_path / ".env.keys").read_bytes()
    (tmp_path / ".env.keys").unlink()  # encrypting needs only the public key
    with env.open("a") as handle:
        handle.write("B=2\n")
    old_line = env.read_text().splitlines()[7]
    assert envdrift_cli("encrypt").exit_code == 0
    assert not (tmp_path / ".env.keys").exists()
    assert env.read_text().splitlines()[7] == old_line
    private = KeysFile(tmp_path / "k", keys_before.decode()).get("DOTENV_PRIVATE_KEY")
    assert private is not None
    assert values_of(env, private)["B"] == "2"


def test_check_reports_plaintext_and_changes_nothing(envdrift_cli: Run, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(PLAIN)
    result = envdrift_cli("encrypt", "--check")
    assert result.exit_code == 1
    assert "plaintext" in result.stdout
    assert env.read_text() == PLAIN
    assert not (tmp_path / ".env.keys").exists()
    envdrift_cli("encrypt")
    result = envdrift_cli("encrypt", "--check", ".env")
    assert result.exit_code == 0
    assert "all values encrypted" in result.stdout
    with env.open("a") as handle:
        handle.write("NEW=1\n")
    snapshot = env.read_bytes()
    result = envdrift_cli("encrypt", "--check")
    assert result.exit_code == 1
    assert "1 plaintext value: NEW" in result.stdout
    assert env.read_bytes() == snapshot


def test_check_without_files_checks_every_env_file_dotenvx_would_encrypt(
    envdrift_cli: Run, tmp_path: Path
) -> None:
    (tmp_path / ".env.production").write_text("A=1\n")
    assert envdrift_cli("encrypt", ".env.production").exit_code == 0
    (tmp_path / ".env.staging").write_text("B=2\n")  # plaintext, not .env: was never checked
    for skipped in (".env.example", ".env.vault", ".env.keys.backup.1", "notes.txt"):
        (tmp_path / skipped).write_text("PLAIN=1\n")
    result = envdrift_cli("encrypt", "--check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        ".env.production: all values encrypted",
        ".env.staging: 1 plaintext value: B",
    ]
    assert (tmp_path / ".env.staging").read_text() == "B=2\n"
    assert envdrift_cli("encrypt", ".env.staging").exit_code == 0
    assert envdrift_cli("encrypt", "--check").exit_code == 0


def test_check_in_a_folder_without_env_files_says_so(envdrift_cli: Run) -> None:
    result = envdrift_cli("encrypt", "--check")
    assert (result.exit_code, result.stdout) == (0, "no .env* file here to check\n")


def test_a_round_trip_keeps_the_committed_ciphertext_of_every_unchanged_value(
    envdrift_cli: Run, tmp_path: Path
) -> None:
    env = committed_encrypted(
        envdrift_cli, tmp_path, ".env.production", 'A=1\nB="two"\nC=three # note\n'
    )
    committed = env.read_text()
    assert envdrift_cli("decrypt", ".env.production").exit_code == 0
    assert envdrift_cli("encrypt", ".env.production").exit_code == 0
    assert env.read_text() == committed  # nothing changed: not one line differs
    assert envdrift_cli("decrypt", ".env.production").exit_code == 0
    env.write_text(env.read_text().replace('B="two"', 'B="2"'))
    result = envdrift_cli("encrypt", ".env.production")
    assert "(3 values; 2 unchanged, committed ciphertext kept)" in result.stdout
    before, after = committed.splitlines(), env.read_text().splitlines()
    changed = [old.split("=")[0] for old, new in zip(before, after, strict=True) if old != new]
    assert changed == ["B"]
    private = KeysFile.read(tmp_path / ".env.keys").get("DOTENV_PRIVATE_KEY_PRODUCTION")
    assert private is not None
    assert values_of(env, private) | {"DOTENV_PUBLIC_KEY_PRODUCTION": ""} == {
        "DOTENV_PUBLIC_KEY_PRODUCTION": "",
        "A": "1",
        "B": "2",
        "C": "three",
    }


def test_without_the_private_key_no_committed_ciphertext_is_reused(
    envdrift_cli: Run, tmp_path: Path
) -> None:
    env = committed_encrypted(envdrift_cli, tmp_path, ".env", "A=1\n")
    committed = env.read_text()
    # Without the private key the committed values cannot be read, so none is reused.
    keys = tmp_path / ".env.keys"
    saved = keys.read_text()
    keys.unlink()
    env.write_text(committed.replace(committed.splitlines()[-1], "A=1"))
    assert envdrift_cli("encrypt").exit_code == 0
    assert env.read_text() != committed
    keys.write_text(saved)
    private = KeysFile.read(keys).get("DOTENV_PRIVATE_KEY")
    assert private is not None
    assert values_of(env, private)["A"] == "1"


def test_reuses_private_key_already_in_keys_file(envdrift_cli: Run, tmp_path: Path) -> None:
    # e.g. `envdrift sync` fetched the team's key before the file was first encrypted
    pair = generate_keypair()
    update_keys_file(
        tmp_path / ".env.keys",
        lambda keys: keys.set(
            "DOTENV_PRIVATE_KEY_STAGING", pair.private_key, comment=".env.staging"
        ),
        root=tmp_path,
    )
    keys_before = (tmp_path / ".env.keys").read_bytes()
    (tmp_path / ".env.staging").write_text("A=1\n")
    result = envdrift_cli("encrypt", ".env.staging")
    assert result.exit_code == 0
    assert "using the existing private key DOTENV_PRIVATE_KEY_STAGING" in result.stderr
    assert (tmp_path / ".env.keys").read_bytes() == keys_before
    assert (
        f'DOTENV_PUBLIC_KEY_STAGING="{pair.public_key}"' in (tmp_path / ".env.staging").read_text()
    )


def test_reuses_private_key_from_environment(envdrift_cli: Run, tmp_path: Path) -> None:
    pair = generate_keypair()
    (tmp_path / ".env.ci").write_text("A=1\n")
    result = envdrift_cli(
        "encrypt", ".env.ci", env={"DOTENV_PRIVATE_KEY_CI": pair.private_key.reveal()}
    )
    assert result.exit_code == 0
    assert not (tmp_path / ".env.keys").exists()
    assert values_of(tmp_path / ".env.ci", pair.private_key)["A"] == "1"


def test_keys_file_elsewhere_gets_fk_hint(envdrift_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text("A=1\n")
    result = envdrift_cli("encrypt", "app/.env", "--keys-file", "secrets.keys")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "secrets.keys").exists()
    assert '" # -fk ../secrets.keys\n' in (tmp_path / "app" / ".env").read_text()


def test_keys_file_defaults_to_next_to_env_file(envdrift_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text("A=1\n")
    assert envdrift_cli("encrypt", "app/.env").exit_code == 0
    assert (tmp_path / "app" / ".env.keys").exists()
    assert not (tmp_path / ".env.keys").exists()
    assert "-fk" not in (tmp_path / "app" / ".env").read_text()


def test_unencryptable_values_warn_and_fail(envdrift_cli: Run, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1\nB: yaml\nC='it\\'s'\n")
    result = envdrift_cli("encrypt")
    assert result.exit_code == 1
    assert "line 2: B cannot be encrypted in place" in result.stderr
    assert "line 3: C cannot be encrypted in place" in result.stderr
    assert "A=encrypted:" in env.read_text()


@pytest.mark.parametrize(
    "name", [".env.keys", ".env.example", ".env.sample", ".env.template", ".env.production.example"]
)
def test_refused_names(envdrift_cli: Run, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("A=1\n")
    result = envdrift_cli("encrypt", name)
    assert result.exit_code == 2
    assert name in result.stderr
    assert (tmp_path / name).read_text() == "A=1\n"


def test_missing_file_is_an_error_not_a_new_file(envdrift_cli: Run, tmp_path: Path) -> None:
    result = envdrift_cli("encrypt", ".env.prod")
    assert result.exit_code == 2
    assert "Error: .env.prod does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_one_bad_file_does_not_stop_the_others(envdrift_cli: Run, tmp_path: Path) -> None:
    (tmp_path / ".env.a").write_text("A=1\n")
    result = envdrift_cli("encrypt", ".env.missing", ".env.a")
    assert result.exit_code == 2
    assert "A=encrypted:" in (tmp_path / ".env.a").read_text()


@pytest.mark.parametrize(
    ("key", "problem"),
    [("02abc", "expected 66 hex characters"), ("02" + "ff" * 32, "not a point on secp256k1")],
)
def test_malformed_public_key_names_line(
    envdrift_cli: Run, tmp_path: Path, key: str, problem: str
) -> None:
    (tmp_path / ".env").write_text(f'DOTENV_PUBLIC_KEY="{key}"\nA=1\n')
    result = envdrift_cli("encrypt")
    assert result.exit_code == 1
    assert "line 1: DOTENV_PUBLIC_KEY is a malformed public key" in result.stderr
    assert problem in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / ".env").read_text() == f'DOTENV_PUBLIC_KEY="{key}"\nA=1\n'


def test_invalid_utf8_is_a_clear_error(envdrift_cli: Run, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=1\nB=\xc3\x28\n")
    result = envdrift_cli("encrypt")
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "Error: .env, line 2: not valid UTF-8; re-save the file as UTF-8"
    )


def test_symlink_and_mode_are_kept(envdrift_cli: Run, tmp_path: Path) -> None:
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    os.chmod(real, 0o640)
    (tmp_path / ".env").symlink_to(real)
    assert envdrift_cli("encrypt").exit_code == 0
    assert (tmp_path / ".env").is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert "A=encrypted:" in real.read_text()


def test_gitignore_gets_env_keys_in_a_work_tree(envdrift_cli: Run, tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("node_modules")
    (tmp_path / ".env").write_text("A=1\n")
    result = envdrift_cli("encrypt")
    assert result.exit_code == 0
    added = (
        "node_modules\n"
        "# envdrift: private keys, their backups and temporary files never go to git\n"
        ".env.keys\n.env.keys.*\n.envdrift-tmp-*\n"
    )
    assert (tmp_path / ".gitignore").read_text() == added
    assert "added .env.keys, .env.keys.*, .envdrift-tmp-* to .gitignore" in result.stderr
    (tmp_path / ".env.ci").write_text("A=1\n")
    again = envdrift_cli("encrypt", ".env.ci")
    assert (tmp_path / ".gitignore").read_text() == added
    assert ".gitignore" not in again.stderr  # said once, when it changed


def test_gitignore_left_alone_outside_git(envdrift_cli: Run, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    envdrift_cli("encrypt")
    assert not (tmp_path / ".gitignore").exists()


def test_help(envdrift_cli: Run) -> None:
    result = envdrift_cli("encrypt", "--help")
    assert result.exit_code == 0
    assert "--check" in result.output


def test_utf16_file_is_read_and_written_back_as_utf8(envdrift_cli: Run, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes("\ufeffA=é\n".encode("utf-16-le"))
    assert envdrift_cli("encrypt").exit_code == 0
    data = env.read_bytes()
    assert data.startswith(b"#/---")
    assert "\ufeffA=encrypted:" in data.decode("utf-8")


def test_empty_file_gets_only_the_header(envdrift_cli: Run, tmp_path: Path) -> None:
    env = tmp_path / ".env.dev"
    env.write_text("")
    assert envdrift_cli("encrypt", ".env.dev").exit_code == 0
    private = KeysFile.read(tmp_path / ".env.keys").get("DOTENV_PRIVATE_KEY_DEV")
    assert private is not None
    header = public_key_header("DOTENV_PUBLIC_KEY_DEV", public_key_of(private), ".env.dev")
    assert env.read_text() == header
