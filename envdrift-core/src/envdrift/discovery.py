"""Where envdrift's configuration is: found without importing pydantic.

``envdrift run`` asks on every start whether a configuration covers its files; finding
one must not cost the import of the validating ``envdrift.config`` (pydantic), which
only loads what this module found.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from envdrift.errors import ConfigError

__all__ = ["CONFIG_FILENAME", "PYPROJECT_FILENAME", "find_config", "parse_toml"]

CONFIG_FILENAME = "envdrift.toml"
PYPROJECT_FILENAME = "pyproject.toml"


def find_config(cwd: Path) -> Path | None:
    """Return the config file that applies in ``cwd``, or ``None``.

    Looks in ``cwd`` and then each parent: ``envdrift.toml`` first, else a
    ``pyproject.toml`` with a ``[tool.envdrift]`` table. The nearest folder wins.

    Raises:
        ConfigError: a ``pyproject.toml`` that mentions ``tool.envdrift`` is not valid TOML.
    """
    for folder in [cwd, *cwd.parents]:
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT_FILENAME
        if pyproject.is_file() and _has_envdrift_table(pyproject):
            return pyproject
    return None


def _has_envdrift_table(pyproject: Path) -> bool:
    try:
        raw = pyproject.read_bytes()
    except OSError:
        return False
    if b"envdrift" not in raw:
        return False  # the common case, without parsing every pyproject.toml on the way
    data = parse_toml(str(pyproject), raw, strict=b"tool.envdrift" in raw)
    tool = data.get("tool") if data is not None else None
    return isinstance(tool, dict) and "envdrift" in tool


def parse_toml(label: str, raw: bytes, *, strict: bool) -> dict[str, Any] | None:
    """``raw`` as TOML; ``None`` when it is not TOML and ``strict`` is false.

    Raises:
        ConfigError: with ``strict``: not UTF-8, or not valid TOML (naming ``label``).
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if not strict:
            return None
        raise ConfigError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if not strict:
            return None
        raise ConfigError(f"{label}: invalid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses once per nesting level: thousands of '[' exhaust the stack.
        if not strict:
            return None
        raise ConfigError(
            f"{label}: invalid TOML: arrays or tables nested too deeply to read"
        ) from None
