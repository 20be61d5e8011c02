"""Atomic file writes: a file is either its old content or its new content, never torn."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["TEMP_PREFIX", "atomic_write"]

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


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
