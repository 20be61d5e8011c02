"""The ``files`` vault: secrets are files in a directory.

This is how Docker and Kubernetes secret mounts and systemd credentials hand secrets to
a process, and it needs no cloud account. It is written as an ordinary plugin, so it is
also the model a third-party backend copies.

Config::

    [vault.files]
    path = "secrets"   # relative to the config file's folder

Inside a git work tree, storing a secret first adds it (and envdrift's temporary files)
to the folder's own ``.gitignore``, one line per file, so ``git add -A`` never takes a
key even when the folder lies in the repository; nothing else in the folder is ignored.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from envdrift import (
    ConfigError,
    EnvdriftError,
    FormatError,
    NotFoundError,
    PermissionDeniedError,
    Secret,
    Vault,
    VaultContext,
    VaultError,
    hookimpl,
    require_str,
)
from envdrift._fs import (
    SECRET_LIMIT,
    TEMP_PREFIX,
    FileTooLargeError,
    NotRegularFileError,
    atomic_write,
    make_private_dirs,
    read_limited,
)
from envdrift.retry import bounded

if TYPE_CHECKING:
    from collections.abc import Mapping


#: The folder's ignore file, never a secret: ``store`` lists each secret it writes there.
GITIGNORE = ".gitignore"


class FilesVault(Vault):
    """Secrets stored one per file under a directory."""

    name = "files"
    description = "secrets as files in a directory (Docker/Kubernetes mounts, systemd credentials)"
    option_keys = frozenset({"path"})
    cli_options = {"vault_url": "path"}

    def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
        super().__init__(options, context)
        raw = require_str(self.options, "path", self.name) or os.environ.get("ENVDRIFT_FILES_PATH")
        if not raw:
            raise ConfigError(
                "vault 'files' needs a directory: set [vault.files] path = \"…\" "
                "(relative to the config file) or ENVDRIFT_FILES_PATH"
            )
        self.root = (context.base_dir / raw).resolve()

    def describe(self) -> str:
        return f"vault 'files' ({self.root})"

    def _path(self, name: str) -> Path:
        pure = PurePosixPath(name)
        if (
            not name
            or pure.is_absolute()
            or "\\" in name
            or "\x00" in name
            or any(part in {"", ".", ".."} for part in name.split("/"))
        ):
            raise ConfigError(
                f"secret name {name!r} is not allowed in vault 'files': use a plain relative "
                "name without '..', '.', empty parts or a leading '/'"
            )
        if name == GITIGNORE:
            raise ConfigError(
                f"secret name {name!r} is not allowed in vault 'files': that file keeps the "
                "folder's secrets out of git; choose another name"
            )
        path = self.root.joinpath(*pure.parts)
        if os.path.commonpath([os.path.realpath(path), self.root]) != str(self.root):
            raise ConfigError(f"secret name {name!r} escapes {self.root} through a symlink")
        return path

    def fetch(self, name: str) -> Secret:
        path = self._path(name)
        # A local read has no timeout of its own: a hung file system would hang the run.
        limit = min(self.context.timeout, self.context.deadline.remaining())
        what = f"reading secret {name!r} in {self.describe()}"
        try:
            data = bounded(limit, lambda: read_limited(path, SECRET_LIMIT), what=what)
        except FileNotFoundError:
            raise NotFoundError(f"secret {name!r} not found in {self.describe()}") from None
        except FileTooLargeError as exc:
            raise FormatError(
                f"secret {name!r} in {self.describe()} is {exc.strerror}; a secret holds a "
                "key, not a file of this size"
            ) from None
        except IsADirectoryError:
            raise NotFoundError(f"secret {name!r} in {self.describe()} is a directory") from None
        except OSError as exc:
            raise self._os_error("read", name, exc) from None
        try:
            return Secret(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"secret {name!r} in {self.describe()} is not UTF-8 text") from None

    def store(self, name: str, value: Secret) -> None:
        from envdrift.gitsafety import ignore_in_folder

        path = self._path(name)
        try:
            make_private_dirs(path.parent)
            ignore_in_folder(self.root, [name])
            atomic_write(path, value.reveal().encode("utf-8"), mode=0o600)
        except IsADirectoryError:
            raise ConfigError(
                f"cannot write secret {name!r} in {self.describe()}: {path} is a directory; "
                "remove it or choose another secret name"
            ) from None
        except OSError as exc:
            raise self._os_error("write", name, exc) from None

    def _os_error(self, verb: str, name: str, exc: OSError) -> EnvdriftError:
        """One line for an OS error on a secret's file: what is wrong and what to fix."""
        head = f"cannot {verb} secret {name!r} in {self.describe()}"
        if isinstance(exc, PermissionError):
            return PermissionDeniedError(f"{head}: permission denied")
        if isinstance(exc, NotADirectoryError):
            return ConfigError(
                f"{head}: a part of its path is a file, not a folder; rename that file or "
                "choose another secret name"
            )
        if exc.errno == errno.ENAMETOOLONG:
            return ConfigError(
                f"{head}: the name is too long for the file system; choose a shorter secret name"
            )
        if isinstance(exc, NotRegularFileError):
            return ConfigError(f"{head}: {exc.strerror}; replace it with a regular file")
        return VaultError(f"{head}: {exc.strerror or type(exc).__name__}")

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        names = []
        ignore = self.root / GITIGNORE
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(TEMP_PREFIX) and path != ignore:
                name = path.relative_to(self.root).as_posix()
                if name.startswith(prefix):
                    names.append(name)
        return sorted(names)

    def check(self) -> None:
        if not self.root.is_dir():
            raise NotFoundError(f"{self.describe()}: the directory does not exist")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise PermissionDeniedError(f"{self.describe()}: the directory is not readable")


@hookimpl(trylast=True)
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``files`` vault."""
    return [FilesVault]
