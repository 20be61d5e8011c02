"""``KeysFile``: reading, editing and writing ``.env.keys`` the way dotenvx 2.x does."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from envdrift.dotenvx.keysfile import KEYS_HEADER, KeysFile, update_keys_file
from envdrift.errors import FormatError
from envdrift.secrets import Secret

KEY_A = "6755a988593b8dfce7ff6a505d8003277f078712b806e3aaf329f9d446895aab"
KEY_B = "8c630f513a30b6843f4952a3581a6e67d54b598538b91a2b546f9b912eb67151"
KEY_C = "33add3afa8af84d3d87f66ebeb998cf346337d9ea5850d0be57aff7b58ebaa68"


def set_key(value: str, environment: str) -> Callable[[KeysFile], str]:
    """An edit for ``update_keys_file`` that sets ``DOTENV_PRIVATE_KEY_<ENV>``."""
    return lambda keys: keys.set(
        f"DOTENV_PRIVATE_KEY_{environment}", Secret(value), comment=f".env.{environment.lower()}"
    )


# Exactly what dotenvx 2.38.2 wrote for `dotenvx encrypt -f .env.production` in an
# empty directory (observed with the real CLI).
DOTENVX_FIRST_WRITE = (
    KEYS_HEADER + f"\n# .env.production\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\n"
).encode()


def test_header_is_dotenvx_2x_five_lines() -> None:
    lines = KEYS_HEADER.splitlines()
    assert len(lines) == 5
    assert lines[0] == "#/------------------!DOTENV_PRIVATE_KEYS!-------------------/"
    assert "ARMORED KEYS" in lines[3]
    assert KEYS_HEADER.endswith("/\n")


def test_missing_file_reads_empty(tmp_path: Path) -> None:
    keys = KeysFile.read(tmp_path / ".env.keys")
    assert keys.path == tmp_path / ".env.keys"
    assert keys.get("DOTENV_PRIVATE_KEY") is None
    assert keys.candidates() == []
    assert keys.render() == b""


def test_first_key_gets_header_and_dotenvx_entry(tmp_path: Path) -> None:
    keys = KeysFile.read(tmp_path / ".env.keys")
    result = keys.set("DOTENV_PRIVATE_KEY_PRODUCTION", Secret(KEY_A), comment=".env.production")
    assert result == "created"
    assert keys.render() == DOTENVX_FIRST_WRITE


def test_empty_file_gets_header_but_blank_file_does_not(tmp_path: Path) -> None:
    # dotenvx adds the header only to a zero-length file (checked: "\n" gets none).
    empty = tmp_path / "empty.keys"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.keys"
    blank.write_bytes(b"\n")
    for path in (empty, blank):
        keys = KeysFile.read(path)
        keys.set("DOTENV_PRIVATE_KEY_CI", Secret(KEY_B), comment=".env.ci")
        expected_start = KEYS_HEADER if path is empty else "\n"
        assert keys.render().decode().startswith(expected_start + "\n# .env.ci\n")


def test_append_keeps_every_existing_byte(tmp_path: Path) -> None:
    path = tmp_path / ".env.keys"
    original = DOTENVX_FIRST_WRITE + b"# my own note\r\nOTHER = 'kept' # yes\r\n"
    path.write_bytes(original)
    keys = KeysFile.read(path)
    assert keys.set("DOTENV_PRIVATE_KEY_CI", Secret(KEY_B), comment=".env.ci") == "created"
    assert keys.render() == original + f"\n# .env.ci\nDOTENV_PRIVATE_KEY_CI={KEY_B}\n".encode()


def test_append_without_final_newline_follows_directly(tmp_path: Path) -> None:
    path = tmp_path / ".env.keys"
    path.write_bytes(b"DOTENV_PRIVATE_KEY=" + KEY_A.encode())
    keys = KeysFile.read(path)
    keys.set("DOTENV_PRIVATE_KEY_CI", Secret(KEY_B), comment=".env.ci")
    assert (
        keys.render()
        == f"DOTENV_PRIVATE_KEY={KEY_A}\n# .env.ci\nDOTENV_PRIVATE_KEY_CI={KEY_B}\n".encode()
    )
    assert keys.get("DOTENV_PRIVATE_KEY") == Secret(KEY_A)
    assert keys.get("DOTENV_PRIVATE_KEY_CI") == Secret(KEY_B)


def test_append_without_comment(tmp_path: Path) -> None:
    keys = KeysFile(tmp_path / ".env.keys", "A=1\n")
    keys.set("DOTENV_PRIVATE_KEY", Secret(KEY_A))
    assert keys.render() == f"A=1\n\nDOTENV_PRIVATE_KEY={KEY_A}\n".encode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("DOTENV_PRIVATE_KEY_PRODUCTION={old}\n", "DOTENV_PRIVATE_KEY_PRODUCTION={new}\n"),
        (
            '  export DOTENV_PRIVATE_KEY_PRODUCTION = "{old}"  # c\r\n',
            '  export DOTENV_PRIVATE_KEY_PRODUCTION = "{new}"  # c\r\n',
        ),
        ("DOTENV_PRIVATE_KEY_PRODUCTION='{old}'", "DOTENV_PRIVATE_KEY_PRODUCTION='{new}'"),
        ("DOTENV_PRIVATE_KEY_PRODUCTION=\n", "DOTENV_PRIVATE_KEY_PRODUCTION={new}\n"),
    ],
)
def test_update_replaces_only_the_value(tmp_path: Path, line: str, expected: str) -> None:
    before = "# head\n"
    after = "# tail\n"
    text = before + line.format(old=KEY_A) + (after if line.endswith("\n") else "")
    keys = KeysFile(tmp_path / ".env.keys", text)
    assert keys.set("DOTENV_PRIVATE_KEY_PRODUCTION", Secret(KEY_B), comment="ignored") == "updated"
    rendered = keys.render().decode()
    assert rendered == before + expected.format(new=KEY_B) + (after if line.endswith("\n") else "")
    assert keys.get("DOTENV_PRIVATE_KEY_PRODUCTION") == Secret(KEY_B)


def test_unchanged_when_value_is_equal(tmp_path: Path) -> None:
    keys = KeysFile(tmp_path / ".env.keys", DOTENVX_FIRST_WRITE.decode())
    assert keys.set("DOTENV_PRIVATE_KEY_PRODUCTION", Secret(KEY_A)) == "unchanged"
    assert keys.render() == DOTENVX_FIRST_WRITE


def test_duplicates_get_reads_and_set_updates_the_last(tmp_path: Path) -> None:
    text = f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\nX=1\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_B}\n"
    keys = KeysFile(tmp_path / ".env.keys", text)
    assert keys.get("DOTENV_PRIVATE_KEY_PRODUCTION") == Secret(KEY_B)
    keys.set("DOTENV_PRIVATE_KEY_PRODUCTION", Secret(KEY_C))
    assert keys.render().decode() == text.replace(KEY_B, KEY_C)
    assert keys.names() == ["DOTENV_PRIVATE_KEY_PRODUCTION", "X", "DOTENV_PRIVATE_KEY_PRODUCTION"]


def test_candidates_split_comma_lists_and_skip_other_names(tmp_path: Path) -> None:
    text = (
        KEYS_HEADER
        + f"\n# .env\nDOTENV_PRIVATE_KEY={KEY_A}, {KEY_B}\n"
        + f"NOT_A_KEY={KEY_C}\n"
        + f"# DOTENV_PRIVATE_KEY_OLD={KEY_C}\n"
        + f'DOTENV_PRIVATE_KEY_CI="{KEY_C},{KEY_A},"\n'
    )
    keys = KeysFile(tmp_path / ".env.keys", text)
    assert [s.reveal() for s in keys.candidates()] == [KEY_A, KEY_B, KEY_C]


def test_bom_before_first_line_is_indentation(tmp_path: Path) -> None:
    path = tmp_path / ".env.keys"
    path.write_bytes(b"\xef\xbb\xbfDOTENV_PRIVATE_KEY=" + KEY_A.encode() + b"\n")
    keys = KeysFile.read(path)
    assert keys.get("DOTENV_PRIVATE_KEY") == Secret(KEY_A)
    keys.set("DOTENV_PRIVATE_KEY", Secret(KEY_B))
    assert keys.render() == b"\xef\xbb\xbfDOTENV_PRIVATE_KEY=" + KEY_B.encode() + b"\n"


def test_write_new_file(tmp_path: Path) -> None:
    update = update_keys_file(tmp_path / ".env.keys", set_key(KEY_A, "PRODUCTION"), root=tmp_path)
    assert update.written
    assert update.value == "created"
    assert (tmp_path / ".env.keys").read_bytes() == DOTENVX_FIRST_WRITE
    assert stat.S_IMODE((tmp_path / ".env.keys").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".env.keys"]  # no temp file, no backup


def test_directory_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / ".env.keys").mkdir()
    with pytest.raises(FormatError, match=r"\.env\.keys is a directory"):
        KeysFile.read(tmp_path / ".env.keys")


def test_invalid_utf8_is_a_format_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".env.keys"
    path.write_bytes(b"A=1\nB=\xff\xfe\n")
    with pytest.raises(FormatError, match=r"\.env\.keys is not valid UTF-8 \(line 2\)"):
        KeysFile.read(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / ".env.keys"
    path.write_bytes(b"A=1\n")
    os.chmod(path, 0)
    with pytest.raises(FormatError, match="permission denied"):
        KeysFile.read(path)


@pytest.mark.parametrize("value", ["two words", "a#b", 'q"', "line\n", "back\\slash", " lead"])
def test_values_that_cannot_be_written_unquoted_are_refused(tmp_path: Path, value: str) -> None:
    keys = KeysFile(tmp_path / ".env.keys")
    with pytest.raises(FormatError) as info:
        keys.set("DOTENV_PRIVATE_KEY", Secret(value))
    assert value not in str(info.value) or value.strip() == ""
    assert keys.render() == b""


def test_bad_name_and_multiline_comment_are_refused(tmp_path: Path) -> None:
    keys = KeysFile(tmp_path / ".env.keys")
    with pytest.raises(FormatError, match="key name"):
        keys.set("MY KEY", Secret(KEY_A))
    with pytest.raises(FormatError, match="comment"):
        keys.set("DOTENV_PRIVATE_KEY", Secret(KEY_A), comment="a\nb")


def test_repr_shows_names_not_values(tmp_path: Path) -> None:
    keys = KeysFile(tmp_path / ".env.keys", f"DOTENV_PRIVATE_KEY={KEY_A}\n")
    assert KEY_A not in repr(keys)
    assert "DOTENV_PRIVATE_KEY" in repr(keys)


def test_other_os_errors_are_format_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(FormatError, match="cannot read keys file"):
        KeysFile.read(tmp_path / "file" / ".env.keys")
