"""Atomic file writes: a file is either its old content or its new content, never torn."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["TEMP_PREFIX", "atomic_write", "write_backup"]

#: Temporary files start with this, so a later run can recognise (and ignore) leftovers.
TEMP_PREFIX = ".envdrift-tmp-"


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Replace ``path`` with ``data`` atomically and return the real path written.

    Symlinks are followed, so a symlinked file stays a symlink. The new file gets
    ``mode`` when given, otherwise the existing file's mode (0600 for a new file); the
    owner of an existing file is kept where we may. The data is fsynced before the
    rename, and the temporary file is removed on any failure.
    """
    real = Path(os.path.realpath(path))
    try:
        st: os.stat_result | None = real.stat()
    except FileNotFoundError:
        st = None
    final_mode = mode if mode is not None else (st.st_mode & 0o7777 if st else 0o600)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
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


def write_backup(path: Path, data: bytes, stamp: str) -> Path:
    """Write ``data`` to a new ``<name>.backup.<stamp>[.N]`` next to ``path``, mode 0600.

    Never overwrites an existing backup: a second backup in the same second gets
    ``.1``, ``.2``, … appended.
    """
    from envdrift.errors import FormatError

    for attempt in range(1000):
        suffix = f".backup.{stamp}" + (f".{attempt}" if attempt else "")
        candidate = path.with_name(path.name + suffix)
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
            raise
        return candidate
    raise FormatError(f"too many backups of {path} named {path.name}.backup.{stamp}.*")


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
