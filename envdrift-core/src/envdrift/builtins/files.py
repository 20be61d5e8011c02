"""The ``files`` vault: secrets are files in a directory.

This is how Docker and Kubernetes secret mounts and systemd credentials hand secrets to
a process, and it needs no cloud account. It is written as an ordinary plugin, so it is
also the model a third-party backend copies.

Config::

    [vault.files]
    path = "secrets"   # relative to the config file's folder
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from envdrift import (
    ConfigError,
    FormatError,
    NotFoundError,
    PermissionDeniedError,
    Secret,
    Vault,
    VaultContext,
    hookimpl,
    require_str,
)
from envdrift._fs import SECRET_LIMIT, TEMP_PREFIX, FileTooLargeError, atomic_write, read_limited

if TYPE_CHECKING:
    from collections.abc import Mapping


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
        path = self.root.joinpath(*pure.parts)
        if os.path.commonpath([os.path.realpath(path), self.root]) != str(self.root):
            raise ConfigError(f"secret name {name!r} escapes {self.root} through a symlink")
        return path

    def fetch(self, name: str) -> Secret:
        path = self._path(name)
        try:
            data = read_limited(path, SECRET_LIMIT)
        except FileNotFoundError:
            raise NotFoundError(f"secret {name!r} not found in {self.describe()}") from None
        except FileTooLargeError as exc:
            raise FormatError(
                f"secret {name!r} in {self.describe()} is {exc.strerror}; a secret holds a "
                "key, not a file of this size"
            ) from None
        except IsADirectoryError:
            raise NotFoundError(f"secret {name!r} in {self.describe()} is a directory") from None
        except PermissionError:
            raise PermissionDeniedError(
                f"cannot read secret {name!r} in {self.describe()}: permission denied"
            ) from None
        try:
            return Secret(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"secret {name!r} in {self.describe()} is not UTF-8 text") from None

    def store(self, name: str, value: Secret) -> None:
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(path, value.reveal().encode("utf-8"), mode=0o600)
        except PermissionError:
            raise PermissionDeniedError(
                f"cannot write secret {name!r} in {self.describe()}: permission denied"
            ) from None

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        names = []
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(TEMP_PREFIX):
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
