"""``envdrift decrypt``: in place or --stdout, key lookup, safe quoting, bad input."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from envdrift.dotenvx.crypto import encrypt_value, generate_keypair
from envdrift.dotenvx.envfile import EnvFile
from envdrift.dotenvx.keysfile import KeysFile, update_keys_file
from envdrift.dotenvx.operations import public_key_header, safe_quote

Run = Callable[..., Result]

PLAIN = (
    'export A="hello world" # c\n'
    "B=x#y\n"
    "EMPTY=\n"
    'M="line one\nline two"\n'
    "S='single $NOT_EXPANDED'\n"
    "T=`tick`\n"
    "U=ünïcødé 🔑\n"
    "X_PLAIN=visible\n"
)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def encrypted(envdrift_cli: Run, tmp_path: Path) -> Path:
    env = tmp_path / ".env.production"
    env.write_text(PLAIN)
    assert envdrift_cli("encrypt", ".env.production").exit_code == 0
    return env


def body(text: str) -> str:
    return text.split("# .env.production\n", 1)[1]


def test_round_trip_in_place(envdrift_cli: Run, encrypted: Path) -> None:
    result = envdrift_cli("decrypt", ".env.production")
    assert result.exit_code == 0, result.output
    assert "decrypted .env.production (7 values)" in result.stdout
    assert body(encrypted.read_text()) == PLAIN


def test_stdout_is_the_exact_bytes_when_piped(tmp_path: Path) -> None:
    # click.echo strips ANSI escape sequences from a pipe; a value holding one must not
    # change on its way out (it did for every such value compared with dotenvx).
    plain = 'COLOR="\x1b[31mred\x1b[0m"\nBELL=a\x07b\n'
    env = tmp_path / ".env"
    env.write_text(plain)
    envdrift = [sys.executable, "-m", "envdrift"]
    subprocess.run([*envdrift, "encrypt", ".env"], cwd=tmp_path, check=True, capture_output=True)
    piped = subprocess.run(
        [*envdrift, "decrypt", ".env", "--stdout"], cwd=tmp_path, check=True, capture_output=True
    )
    assert piped.stdout.endswith(plain.encode())
    assert b"\x1b[31mred\x1b[0m" in piped.stdout


def test_stdout_leaves_file_alone(envdrift_cli: Run, encrypted: Path) -> None:
    before = encrypted.read_bytes()
    result = envdrift_cli("decrypt", ".env.production", "--stdout")
    assert result.exit_code == 0
    assert body(result.stdout) == PLAIN
    assert encrypted.read_bytes() == before


def test_key_from_environment_only(envdrift_cli: Run, encrypted: Path, tmp_path: Path) -> None:
    private = KeysFile.read(tmp_path / ".env.keys").get("DOTENV_PRIVATE_KEY_PRODUCTION")
    assert private is not None
    (tmp_path / ".env.keys").unlink()
    # Any DOTENV_PRIVATE_KEY* name works: keys are matched by public key (2.x).
    result = envdrift_cli(
        "decrypt", ".env.production", "--stdout", env={"DOTENV_PRIVATE_KEY_OTHER": private.reveal()}
    )
    assert result.exit_code == 0
    assert body(result.stdout) == PLAIN


def test_stale_env_var_does_not_hide_right_key_in_file(envdrift_cli: Run, encrypted: Path) -> None:
    stale = generate_keypair().private_key.reveal()
    result = envdrift_cli(
        "decrypt", ".env.production", "--stdout", env={"DOTENV_PRIVATE_KEY_PRODUCTION": stale}
    )
    assert result.exit_code == 0
    assert body(result.stdout) == PLAIN


def test_comma_list_from_rotation(envdrift_cli: Run, encrypted: Path, tmp_path: Path) -> None:
    keys_path = tmp_path / ".env.keys"
    keys = KeysFile.read(keys_path)
    private = keys.get("DOTENV_PRIVATE_KEY_PRODUCTION")
    assert private is not None
    old = generate_keypair().private_key.reveal()
    keys_path.write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={old},{private.reveal()}\n")
    result = envdrift_cli("decrypt", ".env.production", "--stdout")
    assert result.exit_code == 0, result.stderr
    assert body(result.stdout) == PLAIN


def test_keys_file_option_and_current_directory(envdrift_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    env = tmp_path / "app" / ".env"
    env.write_text("A=1\n")
    assert envdrift_cli("encrypt", "app/.env", "--keys-file", "elsewhere.keys").exit_code == 0
    assert envdrift_cli("decrypt", "app/.env", "--stdout").exit_code == 1
    result = envdrift_cli("decrypt", "app/.env", "--stdout", "-fk", "elsewhere.keys")
    assert result.exit_code == 0
    assert result.stdout.endswith("A=1\n")
    # dotenvx's encrypt/decrypt look in the current directory: so do we, second.
    (tmp_path / "elsewhere.keys").rename(tmp_path / ".env.keys")
    assert envdrift_cli("decrypt", "app/.env", "--stdout").exit_code == 0


def test_wrong_key_fails_names_values_and_places(
    envdrift_cli: Run, encrypted: Path, tmp_path: Path
) -> None:
    other = generate_keypair()
    keys = tmp_path / ".env.keys"
    keys.write_text(f"DOTENV_PRIVATE_KEY_PRODUCTION={other.private_key.reveal()}\n")
    before = encrypted.read_bytes()
    result = envdrift_cli("decrypt", ".env.production")
    assert result.exit_code == 1
    message = result.stderr
    assert message.startswith("Error: could not decrypt A, B, EMPTY, M, S, T, U in .env.production")
    assert f"{keys.name} (1 key)" in message
    assert "environment" in message
    assert "hello" not in message
    assert encrypted.read_bytes() == before


def test_missing_key_lists_where_it_looked(
    envdrift_cli: Run, encrypted: Path, tmp_path: Path
) -> None:
    (tmp_path / ".env.keys").unlink()
    before = encrypted.read_bytes()
    result = envdrift_cli("decrypt", ".env.production")
    assert result.exit_code == 1
    assert "no private key for .env.production" in result.stderr
    assert ".env.keys (missing)" in result.stderr
    assert "DOTENV_PRIVATE_KEY_PRODUCTION" in result.stderr
    assert encrypted.read_bytes() == before


def test_malformed_key_material_is_named(
    envdrift_cli: Run, encrypted: Path, tmp_path: Path
) -> None:
    (tmp_path / ".env.keys").write_text("DOTENV_PRIVATE_KEY_PRODUCTION=0x1234\n")
    result = envdrift_cli("decrypt", ".env.production")
    assert result.exit_code == 1
    assert "Not valid private keys (need 64 hex characters): DOTENV_PRIVATE_KEY_PRODUCTION" in (
        result.stderr
    )
    assert "Traceback" not in result.output


def test_malformed_ciphertext_names_line_and_key(envdrift_cli: Run, encrypted: Path) -> None:
    text = encrypted.read_text().replace("B=encrypted:", "B=encrypted:%%", 1)
    encrypted.write_text(text)
    result = envdrift_cli("decrypt", ".env.production")
    assert result.exit_code == 1
    assert (
        ".env.production, line 9: B holds a malformed encrypted value: not valid Base64"
        in result.stderr
    )
    assert encrypted.read_text() == text


def test_nothing_encrypted_is_no_change(envdrift_cli: Run, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    result = envdrift_cli("decrypt")
    assert result.exit_code == 0
    assert "no change to .env" in result.stdout


@pytest.mark.parametrize("name", [".env.keys", ".env.sample"])
def test_refused_names(envdrift_cli: Run, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("A=1\n")
    assert envdrift_cli("decrypt", name).exit_code == 2


def test_missing_file(envdrift_cli: Run) -> None:
    result = envdrift_cli("decrypt", ".env.nope")
    assert result.exit_code == 2
    assert ".env.nope does not exist" in result.stderr


def write_encrypted(tmp_path: Path, lines: dict[str, tuple[str, str]]) -> tuple[Path, KeysFile]:
    """Write an encrypted file whose values are given as (quote, plaintext)."""
    pair = generate_keypair()
    header = public_key_header("DOTENV_PUBLIC_KEY", pair.public_key, ".env")
    body = "".join(
        f"{key}={quote}{encrypt_value(pair.public_key, plain)}{quote}\n"
        for key, (quote, plain) in lines.items()
    )
    env = tmp_path / ".env"
    env.write_text(header + body)
    keys = update_keys_file(
        tmp_path / ".env.keys",
        lambda keys: keys.set("DOTENV_PRIVATE_KEY", pair.private_key, comment=".env"),
        root=tmp_path,
    ).keys
    return env, keys


def test_values_dotenvx_would_corrupt_are_requoted(envdrift_cli: Run, tmp_path: Path) -> None:
    # dotenvx would write Q="say "hi" # x", which reads back as `say "hi`.
    cases = {
        "Q": ('"', 'say "hi" # x'),
        "N": ("", "two\nlines"),
        "H": ("", "a # b"),
        "D": ('"', 'dollar $HOME "q" # x'),
        "R": ("'", "cr\r\nlf"),
        "L": ('"', "literal \\n stays"),
    }
    env, _ = write_encrypted(tmp_path, cases)
    result = envdrift_cli("decrypt")
    assert result.exit_code == 0, result.output
    # Backticks keep dotenv's $-expansion semantics of the original double quotes.
    assert ".env, line 8: Q is written with backticks to read back intact" in result.stderr
    parsed = {e.key: e.value for e in EnvFile.read(env).entries}
    for key, (_, plain) in cases.items():
        assert parsed[key] == plain, key
    text = env.read_text()
    assert 'Q=`say "hi" # x`' in text
    assert 'D=`dollar $HOME "q" # x`' in text  # keeps $-expansion semantics: not single quotes
    assert 'R="cr\\r\nlf"' in text


def test_value_no_quoting_can_hold_is_refused(envdrift_cli: Run, tmp_path: Path) -> None:
    env, _ = write_encrypted(tmp_path, {"OK": ('"', "fine"), "BAD": ('"', "'\"`#\nx")})
    before = env.read_bytes()
    result = envdrift_cli("decrypt")
    assert result.exit_code == 1
    assert "BAD (line 9)" in result.stderr
    assert "no quoting reads it back intact" in result.stderr
    assert env.read_bytes() == before


def test_safe_quote_prefers_original() -> None:
    assert safe_quote("K", '"', "plain") == '"'
    assert safe_quote("K", "'", "it is") == "'"
    assert safe_quote("K", "", "a#b") == '"'
    # single quotes broken, and switching to an expanding quote would change `$X`
    assert safe_quote("K", "'", "it's $X # x") is None
    assert safe_quote("K", "'", "it's # x") == '"'  # no `$`: any quote means the same
    # dotenv's fallback reads 'it's' as it's: dotenvx's own output is kept when it works
    assert safe_quote("K", "'", "it's") == "'"


def test_keys_file_mode_untouched_by_decrypt(
    envdrift_cli: Run, encrypted: Path, tmp_path: Path
) -> None:
    envdrift_cli("decrypt", ".env.production")
    assert stat.S_IMODE((tmp_path / ".env.keys").stat().st_mode) == 0o600


def test_help(envdrift_cli: Run) -> None:
    result = envdrift_cli("decrypt", "--help")
    assert result.exit_code == 0
    assert "--stdout" in result.output
