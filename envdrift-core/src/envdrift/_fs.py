"""Safe file writes: a file is its old content or its new content, never torn.

* ``atomic_write`` replaces a file through a temporary file in the same folder (mode
  0600 from its creation, fsynced, renamed over the target). A process killed at any
  moment leaves the old file or the new one, and at worst a temporary file whose name
  carries the dead process's id; the next write in that folder removes it.
* ``write_backup`` keeps a copy of a file before it changes, the same way (written
  aside, then linked into place under a name nothing else has), mode 0600, and keeps
  only the newest ``keep`` backups of that file.
* ``locked`` serialises read-modify-write cycles on a folder between processes (and
  threads): two ``envdrift sync`` runs never lose each other's update.
* ``read_limited`` refuses files too big to be what they claim, and anything that is
  not a regular file (a FIFO would block forever), without reading them.
* ``check_replaceable`` says, before anything changes, whether ``atomic_write`` could
  replace a file; ``make_private_dirs`` creates folders 0700 whatever the umask.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "CONFIG_FILE_LIMIT",
    "DEFAULT_KEEP_BACKUPS",
    "ENV_FILE_LIMIT",
    "KEYS_FILE_LIMIT",
    "SECRET_LIMIT",
    "TEMP_PREFIX",
    "FileTooLargeError",
    "NotRegularFileError",
    "atomic_write",
    "backup_stamp",
    "check_replaceable",
    "folder_env_files",
    "locked",
    "make_private_dirs",
    "read_limited",
    "relative_path",
    "remove_abandoned_temp_files",
    "write_backup",
]

#: Temporary files start with this, so a later run can recognise (and ignore) leftovers.
TEMP_PREFIX = ".envdrift-tmp-"
#: Backups of one file kept when nobody says otherwise (``--keep-backups``).
DEFAULT_KEEP_BACKUPS = 5
#: A leftover temporary file whose writer cannot be told from its name is abandoned
#: after this long (every write gives a temporary file a second at most).
_ABANDONED_AFTER = 3600.0
#: The largest files envdrift reads, by kind: far beyond any real one, small enough that
#: a wrong path (a log, a database dump) is refused before it is read into memory.
KEYS_FILE_LIMIT = 1 << 20  # 1 MiB: a .env.keys holds a few 64-character keys
ENV_FILE_LIMIT = 10 << 20  # 10 MiB: env files with embedded certificates stay far below
CONFIG_FILE_LIMIT = 10 << 20  # 10 MiB: thousands of mappings take well under 1 MiB
#: Env files that are templates, not encrypted files (dotenvx refuses them too).
_TEMPLATE_SUFFIXES = (".example", ".sample", ".template")
SECRET_LIMIT = 64 << 10  # 64 KiB: a private key, a keys file or JSON holding one
#: How long ``locked`` waits for another process before giving up.
LOCK_TIMEOUT = 30.0
_OWNED = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-")


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Replace ``path`` with ``data`` atomically and return the real path written.

    Symlinks are followed, so a symlinked file stays a symlink. The new file gets
    ``mode`` when given, otherwise the existing file's mode (0600 for a new file); the
    owner of an existing file is kept where we may. The data is fsynced before the
    rename, and the temporary file is removed on any failure. Temporary files that a
    killed envdrift left in the folder are removed first.

    Raises:
        PermissionError: ``path`` exists and is read-only (no write bit, or not writable
            by this process); or as the file system raises it.
    """
    real = Path(os.path.realpath(path))
    st = check_replaceable(real)
    final_mode = mode if mode is not None else (st.st_mode & 0o7777 if st else 0o600)
    remove_abandoned_temp_files(real.parent)
    tmp_name = _write_temp(real.parent, data)
    try:
        os.chmod(tmp_name, final_mode)
        if st is not None and hasattr(os, "chown"):
            with contextlib.suppress(PermissionError):
                os.chown(tmp_name, st.st_uid, st.st_gid)
        os.replace(tmp_name, real)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(real.parent)
    return real


def check_replaceable(path: Path) -> os.stat_result | None:
    """Raise unless ``atomic_write`` could replace ``path``; return its stat (``None``: new).

    Symlinks are followed. Nothing is changed, so a command can check every file it will
    replace before it changes anything anywhere (a vault included).

    Raises:
        PermissionError: the file is read-only (no write bit, or not writable by this
            process), or its folder does not let us create the temporary file.
        NotRegularFileError: the path is something other than a regular file.
        IsADirectoryError: the path is a directory.
        OSError: the folder does not exist or cannot be examined.
    """
    real = Path(os.path.realpath(path))
    try:
        st: os.stat_result | None = real.stat()
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory, not a file", str(real))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(real, st.st_mode)
        if not st.st_mode & 0o222 or not os.access(real, os.W_OK):
            # Replacing goes through the folder, which would override a read-only file
            # (and root passes every access check): a file nobody may write is left alone.
            raise PermissionError(
                errno.EACCES,
                f"the file is read-only (mode {st.st_mode & 0o777:04o}); "
                "make it writable (chmod u+w) to let envdrift change it",
                str(real),
            )
    folder = real.parent
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "its folder does not exist", str(folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES,
            f"its folder {folder} is read-only; make it writable (chmod u+w) to let "
            "envdrift replace files in it",
            str(real),
        )
    return st


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and any missing parents, each mode 0700 whatever the umask.

    ``mkdir(mode=…)`` is masked by the umask and ``parents=True`` ignores ``mode`` for
    the parents, so each folder this creates is chmod-ed explicitly; folders that
    already exist keep their mode.
    """
    missing = []
    current = Path(os.path.abspath(path))
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # another process made it meanwhile; its mode is theirs to choose
        os.chmod(folder, 0o700)


def backup_stamp() -> str:
    """The time part of a backup's name, for now (UTC): ``20261128T161500Z``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def write_backup(
    path: Path, data: bytes, stamp: str, *, keep: int | None = DEFAULT_KEEP_BACKUPS
) -> Path:
    """Write ``data`` to a new ``<name>.backup.<stamp>[.N]`` next to ``path``, mode 0600.

    The backup appears whole or not at all (written aside, then hard-linked into place),
    and never overwrites an existing backup: a second backup in the same second gets
    ``.1``, ``.2``, … appended. Then only the newest ``keep`` backups of ``path`` are
    kept (``None`` keeps all).
    """
    from envdrift.errors import FormatError

    tmp_name = _write_temp(path.parent, data)
    # Later backups sort later even within one second: number past the highest taken.
    taken = [_backup_order(b) for b in backups_of(path)]
    first = max((n + 1 for s, n in taken if s == stamp), default=0)
    try:
        for attempt in range(first, first + 1000):
            suffix = f".backup.{stamp}" + (f".{attempt}" if attempt else "")
            candidate = path.with_name(path.name + suffix)
            try:
                _link_new(tmp_name, candidate)
            except FileExistsError:
                continue
            break
        else:
            raise FormatError(f"too many backups of {path} named {path.name}.backup.{stamp}.*")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    _fsync_dir(path.parent)
    if keep is not None:
        prune_backups(path, keep)
    return candidate


_BACKUP = re.compile(r".*\.backup\.(\d{8}T\d{6}Z)(?:\.(\d+))?")


def backups_of(path: Path) -> list[Path]:
    """The backups of ``path`` that ``write_backup`` made, oldest first."""
    prefix = path.name + ".backup."
    found = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(path.parent):
            if entry.name.startswith(prefix) and _BACKUP.fullmatch(entry.name):
                found.append(Path(entry.path))
    return sorted(found, key=_backup_order)


def _backup_order(backup: Path) -> tuple[str, int]:
    match = _BACKUP.fullmatch(backup.name)
    assert match is not None
    return match.group(1), int(match.group(2) or 0)


def prune_backups(path: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups of ``path``; return those removed."""
    doomed = backups_of(path)[: -keep or None] if keep else backups_of(path)
    for backup in doomed:
        with contextlib.suppress(FileNotFoundError):
            backup.unlink()
    return doomed


def folder_env_files(folder: Path, keys_filename: str = ".env.keys") -> list[Path]:
    """The env files in ``folder``, sorted by name: every file whose name holds ``.env``
    but keys files (and their backups), templates and envdrift's temporary files.

    Which of them belong to an environment, and in which format, is for the caller.

    Raises:
        FormatError: the folder cannot be listed.
    """
    from envdrift.errors import FormatError

    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise FormatError(f"cannot list {folder}: {exc.strerror or exc}") from None
    return [
        Path(entry.path)
        for entry in entries
        if ".env" in entry.name
        and entry.name != keys_filename
        and ".env.keys" not in entry.name
        and not entry.name.startswith((keys_filename + ".", TEMP_PREFIX))
        and not entry.name.endswith(_TEMPLATE_SUFFIXES)
        and entry.is_file()
    ]


def relative_path(path: Path, root: Path) -> str:
    """``path`` below ``root`` in POSIX form (as JSON output shows it), else as given."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def remove_abandoned_temp_files(directory: Path) -> list[Path]:
    """Remove the temporary files a killed envdrift left in ``directory``; return them.

    A temporary file's name carries its writer's process id: it is abandoned when that
    process is gone. A live process's file (another run, writing right now) is left
    alone; one without a process id in its name is abandoned after an hour.
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if entry.name.startswith(TEMP_PREFIX) and _abandoned(entry):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _abandoned(entry: os.DirEntry[str]) -> bool:
    try:
        old = time.time() - entry.stat(follow_symlinks=False).st_mtime > _ABANDONED_AFTER
    except OSError:
        return False
    owner = _OWNED.match(entry.name)
    # No write takes an hour: an old file is abandoned even if its pid was reused.
    return old or (owner is not None and not _alive(int(owner.group(1))))


@contextlib.contextmanager
def locked(directory: Path, *, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` while the block runs.

    The lock is ``flock`` on the folder itself, so no lock file is left behind; it binds
    every process and every thread (each takes its own descriptor) that asks for it,
    and the kernel drops it when a holder dies. Where there is no ``flock`` (Windows),
    the block runs unlocked.

    Raises:
        FormatError: another holder kept the lock for ``timeout`` seconds.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    from envdrift.errors import FormatError

    fd = os.open(directory, os.O_RDONLY)
    try:
        give_up = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > give_up:
                    raise FormatError(
                        f"another envdrift has been writing in {directory} for over "
                        f"{timeout:g} s; try again once it has finished"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


def read_limited(path: Path, limit: int) -> bytes:
    """Return ``path``'s bytes, refusing (unread) a file larger than ``limit`` bytes.

    Anything but a regular file is refused before a byte is read: opening never waits
    (a FIFO without a writer would block forever), and a FIFO, socket or device is
    refused by what the open descriptor is.

    Raises:
        OSError: as ``open`` and ``read`` raise it.
        IsADirectoryError: the path is a directory.
        NotRegularFileError: the path is a FIFO, socket, device, ….
        FileTooLargeError: the file is larger than ``limit``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(path, st.st_mode)
        if st.st_size > limit:
            raise FileTooLargeError(st.st_size, limit)
        data = handle.read(limit + 1)  # a file that grew meanwhile is still bounded
    if len(data) > limit:
        raise FileTooLargeError(len(data), limit)
    return data


class NotRegularFileError(OSError):
    """A path names a FIFO, socket or device where a regular file was expected."""

    def __init__(self, path: Path | str, mode: int) -> None:
        super().__init__(
            errno.EINVAL,
            f"it is {_kind(mode)}, not a regular file; envdrift reads only regular files",
            str(path),
        )


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


class FileTooLargeError(OSError):
    """A file is larger than what it claims to be could ever need."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"{_size(size)}, over the limit of {_size(limit)}")
        self.size = size
        self.limit = limit


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


#: How a temporary file is created: only if its name is new, never through a symlink, and
#: byte for byte (Windows' text mode would turn LF into CRLF).
_TEMP_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _write_temp(directory: Path, data: bytes) -> str:
    """Write ``data`` to a new fsynced temporary file (mode 0600) in ``directory``."""
    fd, tmp_name = _create_temp(directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return tmp_name


def _create_temp(directory: Path) -> tuple[int, str]:
    """Create a new, empty file (mode 0600) with a random name in ``directory``.

    What ``tempfile.mkstemp`` does, without its imports (shutil, random and the
    compression modules): a write is on every run's path, these modules are not.
    """
    prefix = os.path.join(os.path.abspath(directory), f"{TEMP_PREFIX}{os.getpid()}-")
    for _ in range(100):
        name = prefix + os.urandom(8).hex()
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), name
        except FileExistsError:
            continue  # 64 random bits: only a file planted under that name gets here
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", prefix + "*")


def _link_new(source: str, target: Path) -> None:
    """Give ``source`` the new name ``target``; ``FileExistsError`` if it is taken."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (some network and FUSE file systems): copy into a name
        # created exclusively. Not atomic, but never over an existing file.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle, open(source, "rb") as data:
            handle.write(data.read())
            handle.flush()
            os.fsync(handle.fileno())


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
