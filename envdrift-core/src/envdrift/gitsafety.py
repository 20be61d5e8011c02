"""Keeping private keys away from git: whatever envdrift writes that holds one is ignored.

The one keys-file writer (``dotenvx.keysfile.update_keys_file``, behind ``encrypt``,
``rotate`` and ``decrypt --repair``) hands each file it wrote, and its backup, to
``protect``; ``sync`` (and ``pull``) call it once for all their keys files. Inside a git
work tree it makes sure
git ignores the keys file, its backups (``.env.keys.backup.<time>``, and any other
``.env.keys.*``) and envdrift's temporary files, by adding whichever of those patterns
git does not already ignore to the work tree's top-level ``.gitignore`` (one file covers
every folder), and it reports a keys file that git already tracks: no ignore rule can
take that back.

Outside a work tree nothing happens (and git is never run, nor ``subprocess`` imported:
most runs outside a work tree are CI jobs and containers); without a ``git`` executable
the ``.gitignore`` is still written, by its lines alone.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift._fs import ENV_FILE_LIMIT, TEMP_PREFIX, atomic_write, locked, read_limited
from envdrift.dotenvx.suffix import PRIVATE_KEY_NAME
from envdrift.errors import EnvdriftError

if TYPE_CHECKING:
    import subprocess

__all__ = [
    "GitProtection",
    "committed_text",
    "holds_private_key",
    "ignore_in_folder",
    "ignore_patterns",
    "protect",
    "tracked_files",
    "tracked_warning",
    "work_tree_of",
]

#: A backup name ``write_backup`` could give, to ask git whether backups are ignored.
_BACKUP_PROBE = ".backup.20000101T000000Z"
_TEMP_PROBE = f"{TEMP_PREFIX}0-probe"
#: A private key assigned on a line: what a keys file (under any name) holds.
_KEY_LINE = re.compile(
    rf"^[ \t\ufeff]*(?:export[ \t]+)?(?P<name>{PRIVATE_KEY_NAME}[A-Za-z0-9_.-]*)[ \t]*="
    r"[ \t]*[\"'`]?[0-9a-fA-F]{64}(?![0-9a-fA-F])",
    re.MULTILINE,
)
_HEADER = "# envdrift: private keys, their backups and temporary files never go to git"


@dataclass
class GitProtection:
    """What ``protect`` did and found.

    Attributes:
        gitignore: The ``.gitignore`` it changed (``None``: nothing needed adding).
        added: The patterns it added there.
        tracked: Key files git already tracks (ignoring them changes nothing).
        unignored: Key files git still does not ignore afterwards (a ``!`` rule wins).
    """

    gitignore: Path | None = None
    added: list[str] = field(default_factory=list)
    tracked: list[Path] = field(default_factory=list)
    unignored: list[Path] = field(default_factory=list)

    def merge(self, other: GitProtection) -> None:
        """Add ``other``'s findings to these (the first changed ``.gitignore`` is kept)."""
        if self.gitignore is None and other.gitignore is not None:
            self.gitignore, self.added = other.gitignore, list(other.added)
        self.tracked += [p for p in other.tracked if p not in self.tracked]
        self.unignored += [p for p in other.unignored if p not in self.unignored]

    def messages(self) -> tuple[list[str], list[str]]:
        """``(notes, warnings)`` to print: the ``.gitignore`` change once, then problems."""
        notes = []
        if self.gitignore is not None:
            notes.append(
                f"added {', '.join(self.added)} to {_shown(self.gitignore)}: "
                "git never offers private keys to `git add -A`"
            )
        warnings = [tracked_warning(path) for path in self.tracked]
        warnings += [
            f"git does not ignore {_shown(path)}, so `git add -A` would take it: add "
            f"{path.name} to a .gitignore (or remove the '!' rule that re-includes it)"
            for path in self.unignored
            if path not in self.tracked
        ]
        return notes, warnings


def tracked_warning(path: Path) -> str:
    """The loud warning for a keys file that git tracks."""
    shown = _shown(path)
    return (
        f"{shown} is tracked by git: the private keys in it are in the repository and its "
        f"history. Run `git rm --cached {shown}`, commit, and rotate those keys "
        "(envdrift rotate FILE)"
    )


def holds_private_key(path: Path, keys_filename: str = ".env.keys") -> str | None:
    """Why ``path`` must not be committed, or ``None``: never the key itself.

    A keys file, a backup of one or an envdrift temporary file is refused by its name;
    any other file when a line assigns a ``DOTENV_PRIVATE_KEY*`` a 64-hex value (a keys
    file under another name, or a key pasted into an env file). Files too large to be
    either, or unreadable, are judged by name only.
    """
    name = path.name
    if name == keys_filename:
        return "is a keys file (private keys)"
    if name.startswith(keys_filename + ".backup."):
        return "is a backup of a keys file (private keys)"
    if name.startswith(TEMP_PREFIX):
        return "is an envdrift temporary file (it may hold private keys)"
    try:
        data = read_limited(path, ENV_FILE_LIMIT)
    except OSError:
        return None
    text = data.decode("utf-8", "replace")
    found = _KEY_LINE.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    return f"line {line}: {found.group('name')} holds a private key"


def committed_text(path: Path) -> str | None:
    """The text of ``path`` as git's ``HEAD`` holds it, or ``None`` (not in a work tree,
    not committed, no git, not UTF-8)."""
    tree = work_tree_of(path.parent)
    git = _git_executable() if tree is not None else None
    if tree is None or git is None:
        return None
    rel = os.path.relpath(os.path.abspath(path), tree).replace(os.sep, "/")
    done = _git(git, tree, "show", f"HEAD:./{rel}")
    if done.returncode != 0:
        return None
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None


def tracked_files(tree: Path) -> list[Path]:
    """Every file git tracks in the work tree ``tree`` (empty without git)."""
    git = _git_executable()
    if git is None:
        return []
    done = _git(git, tree, "ls-files", "-z")
    return [tree / rel for rel in _split(done.stdout)] if done.returncode == 0 else []


def ignore_patterns(keys_filename: str) -> list[str]:
    """The ``.gitignore`` lines that cover a keys file, its backups and temporary files."""
    return [keys_filename, f"{keys_filename}.*", f"{TEMP_PREFIX}*"]


def ignore_in_folder(folder: Path, names: Iterable[str]) -> list[str]:
    """Inside a git work tree, make ``folder``'s own ``.gitignore`` ignore the files
    ``names`` (relative to ``folder``) and envdrift's temporary files there; return the
    lines it added (none outside a work tree, or when every line is there already).

    Each line is anchored to ``folder`` and names one file, so a folder that also holds
    other things (even the work tree's top) keeps them in git. For key-bearing files
    written outside the keys-file writer: the files vault's secrets.

    Raises:
        OSError: the ``.gitignore`` could not be read or written (the caller should not
            write the key-bearing file then).
    """
    if work_tree_of(folder) is None:
        return []
    lines = [f"/{_escape(name)}" for name in names] + [f"/{TEMP_PREFIX}*"]
    with locked(folder):
        return _append(folder / ".gitignore", lines, strict=True)


def _escape(name: str) -> str:
    """``name`` as a .gitignore pattern that matches exactly it."""
    escaped = re.sub(r"([*?\[\]\\])", r"\\\1", name)
    stripped = escaped.rstrip(" ")
    return stripped + "\\ " * (len(escaped) - len(stripped))


def work_tree_of(folder: Path) -> Path | None:
    """The top of the git work tree holding ``folder``, or ``None`` outside one."""
    here = Path(os.path.abspath(folder))
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def protect(written: Iterable[Path]) -> GitProtection:
    """Make git ignore the keys files ``written`` (and their backups); report tracked ones.

    Args:
        written: Keys files (or backups of them) envdrift just wrote. The keys file's
            name is taken from each path (``.env.keys``, or a configured name).

    Returns:
        What was added where, and which files git tracks or still does not ignore.
        Failures to read or write ``.gitignore`` are not errors: the file was written
        and the caller still reports it; they surface as ``unignored``.
    """
    by_tree: dict[Path, list[Path]] = {}
    for path in written:
        tree = work_tree_of(path.parent)
        if tree is not None:
            by_tree.setdefault(tree, []).append(Path(os.path.abspath(path)))
    result = GitProtection()
    for tree, paths in by_tree.items():
        result.merge(_protect_tree(tree, paths))
    return result


def _protect_tree(tree: Path, paths: list[Path]) -> GitProtection:
    result = GitProtection()
    git = _git_executable()
    keys_files = [_keys_file_of(path) for path in paths]
    probes: dict[str, str] = {}  # probe path (relative to tree) -> the pattern it needs
    for keys in dict.fromkeys(keys_files):
        rel = os.path.relpath(keys, tree)
        patterns = ignore_patterns(keys.name)
        probes[rel] = patterns[0]
        probes[rel + _BACKUP_PROBE] = patterns[1]
        probes[os.path.join(os.path.dirname(rel), _TEMP_PROBE)] = patterns[2]
    rels = _rel(tree, paths)
    gitignore = tree / ".gitignore"
    ignored = _ignored(git, tree, [*probes, *rels]) if git else set()
    missing = list(dict.fromkeys(p for probe, p in probes.items() if probe not in ignored))
    if missing:
        added = []
        # The keys file is written by now: a .gitignore that cannot be changed is
        # reported (as unignored), never an error that would hide what was written.
        with contextlib.suppress(EnvdriftError), locked(tree):
            added = _append(gitignore, missing)
        if added:
            result.gitignore, result.added = gitignore, added
        if git:
            ignored = _ignored(git, tree, rels)
    if git:
        result.unignored = [tree / rel for rel in rels if rel not in ignored]
        result.tracked = [tree / rel for rel in _tracked(git, tree, rels)]
    return result


def _keys_file_of(path: Path) -> Path:
    """The keys file a backup belongs to (``.env.keys.backup.<time>`` → ``.env.keys``)."""
    name, sep, _ = path.name.partition(".backup.")
    return path.with_name(name) if sep else path


def _rel(tree: Path, paths: list[Path]) -> list[str]:
    return [os.path.relpath(path, tree) for path in paths]


#: Variables that point git at another repository or index (set inside git hooks).
_GIT_LOCATION = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


def _git_executable() -> str | None:
    import shutil  # only inside a work tree

    return shutil.which("git")


def _git(git: str, tree: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    """Run git in ``tree``; a git that cannot run answers like one that found nothing."""
    import subprocess  # only inside a work tree: most runs outside one never need it

    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION}
    try:
        return subprocess.run(
            [git, "-C", str(tree), *args],
            input=stdin.encode("utf-8", "surrogateescape"),
            capture_output=True,
            check=False,
            env=env,
        )
    except OSError:
        return subprocess.CompletedProcess([git, *args], 128, b"", b"")


def _ignored(git: str, tree: Path, rels: list[str]) -> set[str]:
    """Which of ``rels`` git's ignore rules match (whether or not git tracks them)."""
    done = _git(git, tree, "check-ignore", "--no-index", "-z", "--stdin", stdin="\0".join(rels))
    if done.returncode not in (0, 1):
        return set()
    return {os.path.normpath(p) for p in _split(done.stdout)}


def _tracked(git: str, tree: Path, rels: list[str]) -> list[str]:
    done = _git(git, tree, "ls-files", "-z", "--", *rels)
    return [os.path.normpath(p) for p in _split(done.stdout)] if done.returncode == 0 else []


def _split(output: bytes) -> list[str]:
    return [p for p in output.decode("utf-8", "surrogateescape").split("\0") if p]


def _append(gitignore: Path, patterns: list[str], *, strict: bool = False) -> list[str]:
    """Add the ``patterns`` not already there as lines; return those added. A file that
    cannot be read or written adds nothing, or raises ``OSError`` when ``strict``."""
    try:
        existing = gitignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = ""
    except (OSError, UnicodeDecodeError):
        if strict:
            raise
        return []
    lines = {line.strip() for line in existing.splitlines()}
    new = [pattern for pattern in patterns if pattern not in lines]
    if not new:
        return []
    separator = "" if not existing or existing.endswith("\n") else "\n"
    block = "".join(f"{line}\n" for line in ([] if _HEADER in lines else [_HEADER]) + new)
    try:
        atomic_write(
            gitignore,
            (existing + separator + block).encode("utf-8"),
            mode=None if existing else 0o644,
        )
    except OSError:
        if strict:
            raise
        return []
    return new


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
