"""The env files a mapping stands for, for ``pull`` (decrypt) and ``lock`` (encrypt).

A mapping with ``env_file`` has exactly that file. Otherwise they are the env files in
its folder whose name gives the mapping's environment the way dotenvx derives it
(``.env.production`` for ``production``, ``.env`` for ``""``), plus any other env file
that declares the environment's ``DOTENV_PUBLIC_KEY*``. Keys files, templates
(``.example``, ``.sample``, ``.template``) and envdrift's temporary files never count.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift._fs import TEMP_PREFIX
from envdrift.dotenvx.envfile import EnvFile, read_env_text
from envdrift.dotenvx.suffix import PUBLIC_KEY_NAME, environment_suffix
from envdrift.errors import FormatError

if TYPE_CHECKING:
    from envdrift.config import SyncMapping

__all__ = ["mapping_env_files"]

_TEMPLATE_SUFFIXES = (".example", ".sample", ".template")


def mapping_env_files(mapping: SyncMapping, keys_filename: str) -> list[Path]:
    """The env files of ``mapping``, sorted by name (``env_file`` even when missing, so
    the caller reports it).

    Raises:
        FormatError: the folder cannot be listed.
    """
    if mapping.env_file is not None:
        return [mapping.folder / mapping.env_file]
    suffix = f"_{mapping.environment.upper()}" if mapping.environment else ""
    public_key = PUBLIC_KEY_NAME + suffix
    try:
        entries = sorted(os.scandir(mapping.folder), key=lambda e: e.name)
    except OSError as exc:
        raise FormatError(f"cannot list {mapping.folder}: {exc.strerror or exc}") from None
    found = []
    for entry in entries:
        name = entry.name
        if (
            ".env" not in name
            or name == keys_filename
            or ".env.keys" in name
            or name.startswith((keys_filename + ".", TEMP_PREFIX))
            or name.endswith(_TEMPLATE_SUFFIXES)
            or not entry.is_file()
        ):
            continue
        path = Path(entry.path)
        if environment_suffix(name) == suffix or _declares(path, public_key):
            found.append(path)
    return found


def _declares(path: Path, public_key: str) -> bool:
    try:
        text = read_env_text(path)
    except (FileNotFoundError, FormatError):
        return False
    if public_key not in text:
        return False  # the common case, without parsing
    return any(entry.key == public_key for entry in EnvFile(text).entries)
