"""``.env.keys``: the file where dotenvx keeps private keys, read and written as 2.x does.

The file is a plain env file. dotenvx 2.x starts a new one with a five-line header and
appends every new key as ``"\\n# <env file>\\nDOTENV_PRIVATE_KEY_<ENV>=<hex>\\n"``,
never de-duplicating. We reproduce that byte for byte, and change an existing key only
by replacing its value, so every other byte of a file a person or dotenvx wrote stays.

Every envdrift command that writes a keys file goes through ``update_keys_file``: it
takes the folder's lock, refuses a symlink that leads out of the project, re-reads the
file under the lock and applies the caller's edit to what is there now, so two writers
at once never lose each other's key.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Literal, TypeVar

from envdrift._fs import (
    DEFAULT_KEEP_BACKUPS,
    KEYS_FILE_LIMIT,
    LOCK_TIMEOUT,
    FileTooLargeError,
    NotRegularFileError,
    atomic_write,
    check_replaceable,
    locked,
    read_limited,
    write_backup,
)
from envdrift.dotenvx.envfile import EnvFile, may_span_lines
from envdrift.dotenvx.suffix import PRIVATE_KEY_NAME
from envdrift.errors import FormatError
from envdrift.gitsafety import GitProtection, protect
from envdrift.secrets import Secret

__all__ = [
    "KEYS_HEADER",
    "KeysFile",
    "KeysUpdate",
    "check_keys_path",
    "project_root",
    "update_keys_file",
]

T = TypeVar("T")

#: The header dotenvx 2.x writes at the top of a new (or empty) ``.env.keys``.
KEYS_HEADER = (
    "#/------------------!DOTENV_PRIVATE_KEYS!-------------------/\n"
    "#/ private decryption keys. DO NOT commit to source control /\n"
    "#/     [how it works](https://dotenvx.com/encryption)       /\n"
    "#/          \u26e8 ARMORED KEYS: `dotenvx armor up`              /\n"
    "#/----------------------------------------------------------/\n"
)

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


def _continuation_lines(text: str) -> set[int]:
    """Indexes of the lines that lie inside another assignment's multi-line quoted value.

    dotenvx reads ``.env.keys`` with its env-file parser, so ``NAME=value`` inside a value
    such as ``NOTE="…\nDOTENV_PRIVATE_KEY_CI=…\n…"`` is text, not a key (checked with
    dotenvx 2.x: it does not use such a key). The same parser decides here.
    """
    starts = [match.start() for match in _LINES.finditer(text)]
    inside: set[int] = set()
    for entry in EnvFile(text).entries:
        first = bisect.bisect_right(starts, entry.key_start) - 1
        last = bisect.bisect_right(starts, max(entry.end - 1, entry.key_start)) - 1
        inside.update(range(first + 1, last + 1))
    return inside


class KeysFile:
    """The lines of one ``.env.keys`` file, editable in place.

    Reading never fails on content a person might write (comments, blank lines, quoted
    values, ``export``); only lines of the form ``NAME=value`` count as keys. Edits stay
    in memory: ``update_keys_file`` is the only way envdrift writes a keys file.

    Attributes:
        path: Where the file is read from and written to.
    """

    def __init__(self, path: Path, text: str = "") -> None:
        self.path = path
        self._lines = [_parse_line(line) for line in _LINES.findall(text)]
        if may_span_lines(text):
            for index in _continuation_lines(text):
                self._lines[index] = _Line(self._lines[index].text)

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
        except NotRegularFileError as exc:
            raise FormatError(f"keys file {path}: {exc.strerror}") from None
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
            if line.name is None or not line.name.startswith(PRIVATE_KEY_NAME):
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
        """Return the file's bytes as ``update_keys_file`` would store them."""
        return "".join(line.text for line in self._lines).encode("utf-8")

    def _last(self, name: str) -> _Line | None:
        for line in reversed(self._lines):
            if line.name == name:
                return line
        return None


# -- the one writer --------------------------------------------------------------------


@dataclass(frozen=True)
class KeysUpdate(Generic[T]):
    """What ``update_keys_file`` did.

    Attributes:
        path: The keys file as named by the caller.
        real_path: Where it really is (a symlink's target).
        keys: The file as it is now (as written, or as read when nothing changed).
        value: What the caller's ``edit`` returned.
        written: Whether the file was written (``False`` when the edit changed nothing).
        backup: The backup written before a key was replaced, if any.
        git: What keeping the written file and its backup out of git did, and whether
            git tracks the file (``envdrift.gitsafety.protect``).
    """

    path: Path
    real_path: Path
    keys: KeysFile
    value: T
    written: bool
    backup: Path | None
    git: GitProtection = field(default_factory=GitProtection)


#: What marks a project's top folder, for commands that run without a config.
_PROJECT_MARKERS = (".git", "envdrift.toml", "pyproject.toml", "pair.txt")


def project_root(folder: Path) -> Path:
    """The project ``folder`` belongs to, for commands that need no config (``encrypt``).

    The nearest folder at or above ``folder`` holding ``.git``, ``envdrift.toml``,
    ``pyproject.toml`` or ``pair.txt``; ``folder`` itself when there is none.
    """
    start = Path(os.path.realpath(folder))
    for candidate in (start, *start.parents):
        if any(os.path.lexists(candidate / marker) for marker in _PROJECT_MARKERS):
            return candidate
    return start


def check_keys_path(path: Path, root: Path, *, allow_outside_root: bool = False) -> Path:
    """Return the real path of the keys file ``path``; refuse a symlink out of ``root``.

    A cloned repository can ship ``.env.keys`` as a symlink to anywhere; envdrift never
    writes a private key through one that leads outside the project. Only the final
    link is judged here: whether the folder itself may lie outside ``root`` is the
    caller's rule (``sync`` checks ``folder_path``).

    Raises:
        FormatError: ``path`` is a symlink whose target is outside ``root`` and
            ``allow_outside_root`` is false.
    """
    real = Path(os.path.realpath(path))
    if os.path.islink(path) and not allow_outside_root:
        top = os.path.realpath(root)
        if os.path.commonpath([str(real), top]) != top:
            raise FormatError(
                f"{path} is a symlink to {real}, outside the project root {top}; nothing is "
                "written there unless allow_outside_root is set (replace the link with a "
                "file to keep keys here)"
            )
    return real


def update_keys_file(
    path: Path,
    edit: Callable[[KeysFile], T],
    *,
    root: Path,
    allow_outside_root: bool = False,
    backup_stamp: str | None = None,
    keep_backups: int = DEFAULT_KEEP_BACKUPS,
    timeout: float = LOCK_TIMEOUT,
    protect_git: bool = True,
) -> KeysUpdate[T]:
    """Read, edit and write the keys file ``path`` under its folder's lock.

    Every command that writes a ``.env.keys`` calls this, so they all serialise on the
    same lock as ``sync``: the file is (re-)read under the lock, ``edit`` changes the
    fresh ``KeysFile`` in memory (returning whatever the caller wants back), and the
    result is written atomically, mode 0600, only if its bytes changed. An edit that
    sets only its own names therefore keeps every key another writer put there first.

    ``edit`` may raise to write nothing; the exception propagates with the lock released.
    A symlink leading out of ``root`` is refused before anything is read (see
    ``check_keys_path``); a permitted symlink is written through, and its target keeps
    its own mode (envdrift never changes the mode of a file it reached through a link).
    Inside a git work tree, the written file and its backup are then made ignored by
    git (``envdrift.gitsafety.protect``); ``KeysUpdate.git`` says what that did and
    whether git already tracks the file, for the command to report.

    Args:
        path: The keys file (need not exist).
        edit: Called once, under the lock, with the file as it is now.
        root: The project root a symlinked ``path`` must stay inside.
        allow_outside_root: Allow a symlink leading out of ``root``.
        backup_stamp: When given, a key whose value changes is backed up first
            (``<name>.backup.<stamp>``, mode 0600, newest ``keep_backups`` kept).
        keep_backups: Backups kept per keys file; 0 writes none.
        timeout: Seconds to wait for another writer's lock.
        protect_git: ``False`` leaves the git step to the caller, who must then call
            ``protect`` itself (``sync`` does it once for all its keys files).

    Returns:
        A ``KeysUpdate`` with the edit's value, the written file and any backup.

    Raises:
        FormatError: the symlink leaves the project, the file is unreadable, malformed
            or not a regular file, the edit is invalid, or the lock timed out.
        OSError: the file or its folder cannot be written (read-only, missing folder);
            nothing was written, no backup either.
    """
    real = check_keys_path(path, root, allow_outside_root=allow_outside_root)
    folder = real.parent
    if not folder.is_dir():
        raise FileNotFoundError(2, "its folder does not exist", str(folder))
    with locked(folder, timeout=timeout):
        keys = KeysFile.read(path)
        before = keys.render()
        old = {name: keys.get(name) for name in keys.names()}
        value = edit(keys)
        after = keys.render()
        if after == before:
            return KeysUpdate(path, real, keys, value, written=False, backup=None)
        check_replaceable(real)  # a read-only file gets no backup either
        backup = None
        replaced = any(keys.get(name) != secret for name, secret in old.items())
        if backup_stamp is not None and keep_backups and replaced and before:
            backup = write_backup(path, before, backup_stamp, keep=keep_backups)
        mode = None if os.path.islink(path) else KEYS_FILE_MODE
        atomic_write(path, after, mode=mode)
    # Outside the lock: a keys file is never written without git being told to ignore it.
    git = GitProtection()
    if protect_git:
        git = protect([path] + ([backup] if backup is not None else []))
    return KeysUpdate(path, real, keys, value, written=True, backup=backup, git=git)
