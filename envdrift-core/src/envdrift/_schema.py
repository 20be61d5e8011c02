"""The configuration's schema as pydantic models: the authority on what is valid.

``envdrift.config`` reads a file without importing this module when every value already
has the type and range below (``config._conforms``, the common case: pydantic's import
and model building cost a small run more than everything else it does before its first
vault request). Anything else is validated here, and pydantic's errors become the one
message ``describe_validation`` writes. ``tests/core/test_config_schema.py`` proves the
two agree on every kind of value a TOML file can hold.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envdrift.config import BOUNDS, DEFAULT_KEYS_FILENAME

__all__ = ["Root", "ValidationError", "describe_validation"]


class _Table(BaseModel):
    # strict: a TOML integer is not silently a string, and `true` is not 1.
    # extra="allow": unknown keys are collected and reported as warnings.
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class MappingTable(_Table):
    secret_name: str = Field(min_length=1)
    folder_path: str = Field(min_length=1)
    environment: str | None = None
    vault_name: str | None = Field(default=None, min_length=1)
    profile: str | None = Field(default=None, min_length=1)
    env_file: str | None = Field(default=None, min_length=1)
    ephemeral_keys: bool | None = None


class SyncTable(_Table):
    default_vault_name: str | None = Field(default=None, min_length=1)
    ephemeral_keys: bool = False
    env_keys_filename: str = Field(default=DEFAULT_KEYS_FILENAME, min_length=1)
    allow_outside_root: bool = False
    max_workers: int | None = Field(
        default=None, ge=BOUNDS["max_workers"][0], le=BOUNDS["max_workers"][1]
    )
    mappings: list[MappingTable] = Field(default_factory=list)


class VaultTable(_Table):
    provider: str | None = Field(default=None, min_length=1)
    timeout: float | None = Field(default=None, gt=BOUNDS["timeout"][0], le=BOUNDS["timeout"][1])
    retries: int | None = Field(default=None, ge=BOUNDS["retries"][0], le=BOUNDS["retries"][1])
    deadline: float | None = Field(default=None, gt=BOUNDS["deadline"][0], le=BOUNDS["deadline"][1])
    sync: SyncTable = Field(default_factory=SyncTable)


class Root(_Table):
    vault: VaultTable = Field(default_factory=VaultTable)


#: How range errors describe each bounded key.
_RANGES = {
    "max_workers": "between 1 and 256",
    "timeout": "a number of seconds above 0, at most 3600",
    "retries": "an integer between 0 and 20",
    "deadline": "a number of seconds above 0, at most 86400",
}

_EXPECTED = {
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "an integer",
    "list_type": "an array of tables ([[…]])",
    "model_type": "a table",
    "dict_type": "a table",
    "model_attributes_type": "a table",
}


def describe_validation(label: str, exc: ValidationError, prefix: str) -> str:
    """pydantic's errors as envdrift's message: one line per key, naming what it wants."""
    problems = []
    for error in exc.errors():
        key = prefix + _key_path(error["loc"])
        kind = error["type"]
        if kind == "missing":
            problems.append(f"{key}: missing (required)")
        elif kind in _EXPECTED:
            problems.append(
                f"{key}: expected {_EXPECTED[kind]}, got {_toml_type(error.get('input'))}"
            )
        elif kind == "string_too_short":
            problems.append(f"{key}: must not be empty")
        elif kind in {"greater_than", "greater_than_equal", "less_than_equal"}:
            problems.append(f"{key}: must be {_RANGES.get(key.rsplit('.', 1)[-1], 'in range')}")
        else:  # pragma: no cover - every constraint above has its own wording
            problems.append(f"{key}: {error['msg']}")
    if len(problems) == 1:
        return f"{label}: {problems[0]}"
    return f"{label}: {len(problems)} problems:\n  " + "\n  ".join(problems)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"  # people count mappings from 1, and so do our messages
        else:
            out += f".{part}" if out else part
    return out


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"
