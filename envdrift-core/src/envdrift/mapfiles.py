"""The env files a mapping stands for, for ``pull`` (decrypt) and ``lock`` (encrypt).

A mapping with ``env_file`` has exactly that file. Otherwise they are the env files in
its folder whose name gives the mapping's environment the way dotenvx derives it
(``.env.production`` for ``production``, ``.env`` for ``""``), plus any other env file
that declares the environment's ``DOTENV_PUBLIC_KEY*``. Keys files, templates
(``.example``, ``.sample``, ``.template``) and envdrift's temporary files never count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envdrift._fs import folder_env_files
from envdrift.dotenvx.envfile import EnvFile, read_env_text
from envdrift.dotenvx.suffix import PUBLIC_KEY_NAME, environment_suffix
from envdrift.errors import FormatError

if TYPE_CHECKING:
    from envdrift.config import SyncMapping

__all__ = ["folder_env_files", "mapping_env_files"]


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
    return [
        path
        for path in folder_env_files(mapping.folder, keys_filename)
        if environment_suffix(path.name) == suffix or _declares(path, public_key)
    ]


def _declares(path: Path, public_key: str) -> bool:
    try:
        text = read_env_text(path)
    except (FileNotFoundError, FormatError):
        return False
    if public_key not in text:
        return False  # the common case, without parsing
    return any(entry.key == public_key for entry in EnvFile(text).entries)
