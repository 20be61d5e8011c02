"""``.env.keys``: the file where dotenvx keeps private keys, read and written as 2.x does.

The file is a plain env file. dotenvx 2.x starts a new one with a five-line header and
appends every new key as ``"\\n# <env file>\\nDOTENV_PRIVATE_KEY_<ENV>=<hex>\\n"``,
never de-duplicating. We reproduce that byte for byte, and change an existing key only
by replacing its value, so every other byte of a file a person or dotenvx wrote stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from envdrift._fs import KEYS_FILE_LIMIT, FileTooLargeError, atomic_write, read_limited
from envdrift.errors import FormatError
from envdrift.secrets import Secret

__all__ = ["KEYS_HEADER", "PRIVATE_KEY_PREFIX", "KeysFile"]

#: The header dotenvx 2.x writes at the top of a new (or empty) ``.env.keys``.
KEYS_HEADER = (
    "#/------------------!DOTENV_PRIVATE_KEYS!-------------------/\n"
    "#/ private decryption keys. DO NOT commit to source control /\n"
    "#/     [how it works](https://dotenvx.com/encryption)       /\n"
    "#/          \u26e8 ARMORED KEYS: `dotenvx armor up`              /\n"
    "#/----------------------------------------------------------/\n"
)

#: Every private-key line's name starts with this.
PRIVATE_KEY_PREFIX = "DOTENV_PRIVATE_KEY"

#: The mode dotenvx 2.x forces on every write (1.x left 0644).
KEYS_FILE_MODE = 0o600

# One assignment line: indentation (JS whitespace includes a BOM), optional `export`,
# the key, `=` with optional blanks around it, then a quoted or an unquoted value.
_ASSIGNMENT = re.compile(
    r"""
    [ \t\ufeff]*
    (?:export[ \t]+)?
    (?P<name>[A-Za-z0-9_.-]+)
    [ \t]*=[ \t]*
    (?:
        (?P<quote>["'`])(?P<quoted>[^\r\n]*?)(?P=quote)
      | (?P<bare>[^#\r\n]*?)
    )
    [ \t]*(?:\#[^\r\n]*)?
    (?:\r\n|\r|\n)?\Z
    """,
    re.VERBOSE,
)

# A value we write unquoted must re-read as itself, in dotenvx and in this module.
_WRITABLE_VALUE = re.compile(r"[^\s#\"'`\\]*")
_VALID_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Lines end at LF, CRLF or CR only (str.splitlines would also split at \x0c, U+2028, …).
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass
class _Line:
    """One physical line (with its ending) and, for an assignment, where its value is."""

    text: str
    name: str | None = None
    start: int = 0
    end: int = 0

    @property
    def value(self) -> str:
        return self.text[self.start : self.end]


def _parse_line(text: str) -> _Line:
    match = _ASSIGNMENT.match(text)
    if match is None:
        return _Line(text)
    group = "quoted" if match.group("quote") else "bare"
    return _Line(text, match.group("name"), match.start(group), match.end(group))


class KeysFile:
    """The lines of one ``.env.keys`` file, editable in place.

    Reading never fails on content a person might write (comments, blank lines, quoted
    values, ``export``); only lines of the form ``NAME=value`` count as keys. Nothing is
    written until ``write()``.

    Attributes:
        path: Where the file is read from and written to.
    """

    def __init__(self, path: Path, text: str = "") -> None:
        self.path = path
        self._lines = [_parse_line(line) for line in _LINES.findall(text)]

    def __repr__(self) -> str:
        return f"KeysFile({str(self.path)!r}, names={self.names()!r})"

    @classmethod
    def read(cls, path: Path) -> KeysFile:
        """Read ``path``; a missing file gives an empty ``KeysFile`` for that path.

        Raises:
            FormatError: the path is a directory, cannot be read, or is not UTF-8.
        """
        try:
            data = read_limited(path, KEYS_FILE_LIMIT)
        except FileNotFoundError:
            return cls(path)
        except IsADirectoryError:
            raise FormatError(f"keys file {path} is a directory, not a file") from None
        except FileTooLargeError as exc:
            raise FormatError(
                f"keys file {path} is {exc.strerror}; a keys file holds a few private "
                "keys: is this the right file?"
            ) from None
        except PermissionError:
            raise FormatError(
                f"cannot read keys file {path}: permission denied; check its owner and mode"
            ) from None
        except OSError as exc:
            raise FormatError(f"cannot read keys file {path}: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise FormatError(
                f"keys file {path} is not valid UTF-8 (line {line}); "
                "re-save it as UTF-8 or remove the broken line"
            ) from None
        return cls(path, text)

    # -- queries -----------------------------------------------------------------

    def names(self) -> list[str]:
        """Return the name of every assignment, in file order (duplicates kept)."""
        return [line.name for line in self._lines if line.name is not None]

    def get(self, name: str) -> Secret | None:
        """Return the value of the last line named ``name``, or ``None``."""
        line = self._last(name)
        return None if line is None else Secret(line.value)

    def candidates(self) -> list[Secret]:
        """Return every ``DOTENV_PRIVATE_KEY*`` value, comma lists split, in file order.

        dotenvx 1.x ``rotate`` wrote ``OLD,NEW`` on one line and both versions try each
        key, so each part is a candidate. Empty parts and repeats are dropped.
        """
        return [secret for _, secret in self.named_candidates()]

    def named_candidates(self) -> list[tuple[str, Secret]]:
        """Like ``candidates()``, with the name of the line each key was found on."""
        seen: set[str] = set()
        found: list[tuple[str, Secret]] = []
        for line in self._lines:
            if line.name is None or not line.name.startswith(PRIVATE_KEY_PREFIX):
                continue
            for part in line.value.split(","):
                part = part.strip()
                if part and part not in seen:
                    seen.add(part)
                    found.append((line.name, Secret(part)))
        return found

    # -- edits -------------------------------------------------------------------

    def set(
        self, name: str, value: Secret, *, comment: str | None = None
    ) -> Literal["created", "updated", "unchanged"]:
        """Give ``name`` the value ``value``, in memory.

        An existing line keeps everything but its value (quotes, comment, line ending);
        when ``name`` appears more than once, the last line (the one ``get`` reads) is
        changed. A new name is appended the way dotenvx does it:
        ``"\\n# <comment>\\nNAME=<value>\\n"`` (without the comment line when ``comment``
        is ``None``), after the header when the file is new or empty.

        Raises:
            FormatError: ``name`` is not a valid key name, ``value`` could not be written
                unquoted (blanks, ``#``, quotes or backslashes), or ``comment`` spans lines.
        """
        if not _VALID_NAME.fullmatch(name):
            raise FormatError(
                f"cannot write {name!r} to keys file {self.path}: "
                "a key name may hold only letters, digits, '_', '.' and '-'"
            )
        raw = value.reveal()
        if not _WRITABLE_VALUE.fullmatch(raw):
            raise FormatError(
                f"cannot write {name} to keys file {self.path}: the value contains blanks, "
                "'#', quotes or backslashes (a private key is 64 hex characters)"
            )
        if comment is not None and ("\n" in comment or "\r" in comment):
            raise FormatError(f"cannot write {name} to keys file {self.path}: comment spans lines")
        line = self._last(name)
        if line is not None:
            if line.value == raw:
                return "unchanged"
            text = line.text[: line.start] + raw + line.text[line.end :]
            line.text, line.end = text, line.start + len(raw)
            return "updated"
        block = "" if self._lines else KEYS_HEADER
        block += "\n" if comment is None else f"\n# {comment}\n"
        block += f"{name}={raw}\n"
        self._lines.extend(_parse_line(part) for part in _LINES.findall(block))
        return "created"

    def render(self) -> bytes:
        """Return the file's bytes as ``write()`` would store them."""
        return "".join(line.text for line in self._lines).encode("utf-8")

    def write(self) -> Path:
        """Write the file atomically with mode 0600, following symlinks.

        Returns:
            The real path written (the symlink's target when ``path`` is a link).
        """
        return atomic_write(self.path, self.render(), mode=KEYS_FILE_MODE)

    def _last(self, name: str) -> _Line | None:
        for line in reversed(self._lines):
            if line.name == name:
                return line
        return None
