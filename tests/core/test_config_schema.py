"""The pydantic-free check of envdrift.config agrees with the schema's models.

``config._conforms`` lets a well-formed file skip pydantic (its import and model
building cost a small run more than anything else before the first vault request); the
models in ``envdrift._schema`` stay the authority. These tests fail when the two drift:
a value the check accepts but the models refuse would reach the commands unvalidated.
"""

from __future__ import annotations

import datetime
import math
import subprocess
import sys
from typing import Any

import pytest
from envdrift import config
from envdrift._schema import MappingTable, Root, SyncTable, ValidationError, VaultTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Every kind of value a TOML file can hold, with the edges of the schema's ranges.
_EDGES = [-1, 0, 1, 20, 21, 256, 257, 3600, 3601, 86400, 86401]
_FLOAT_EDGES = [0.0, 0.5, 1.0, 3600.0, 3600.5, 86400.0, 86400.5, -0.5, math.inf, math.nan]
_SCALARS = st.one_of(
    st.sampled_from(["", "x", "production", "a b"]),
    st.sampled_from(_EDGES),
    st.integers(),
    st.sampled_from(_FLOAT_EDGES),
    st.floats(),
    st.booleans(),
    st.sampled_from([datetime.datetime(2026, 1, 1), datetime.date(2026, 1, 1)]),
)
_ANY = st.one_of(_SCALARS, st.just({}), st.lists(st.one_of(_SCALARS, st.just({})), max_size=2))
_DELETE = object()

# Valid files: every key of the schema holds a value of its type, within its range.
_TEXT = st.text(min_size=1, max_size=3)
_EXTRA = st.dictionaries(st.sampled_from(["unknown", "vault_url"]), _SCALARS, max_size=1)


def _seconds(high: int) -> st.SearchStrategy[float]:
    return st.one_of(
        st.integers(1, high), st.floats(0, high, exclude_min=True), st.just(float(high))
    )


def _with_extra(known: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda a, b: {**b, **a}, known, _EXTRA)


_VALID_MAPPING = _with_extra(
    st.fixed_dictionaries(
        {"secret_name": _TEXT, "folder_path": _TEXT},
        optional={
            "environment": st.text(max_size=3),
            "vault_name": _TEXT,
            "profile": _TEXT,
            "env_file": _TEXT,
            "ephemeral_keys": st.booleans(),
        },
    )
)
_VALID_SYNC = st.fixed_dictionaries(
    {"mappings": st.lists(_VALID_MAPPING, max_size=3)},
    optional={
        "default_vault_name": _TEXT,
        "ephemeral_keys": st.booleans(),
        "env_keys_filename": _TEXT,
        "allow_outside_root": st.booleans(),
        "max_workers": st.integers(1, 256),
    },
)
_VALID_VAULT = _with_extra(
    st.fixed_dictionaries(
        {"sync": _VALID_SYNC},
        optional={
            "provider": _TEXT,
            "timeout": _seconds(3600),
            "retries": st.integers(0, 20),
            "deadline": _seconds(86400),
            "files": st.just({"path": "s"}),
        },
    )
)
_VALID_ROOT = _with_extra(st.fixed_dictionaries({"vault": _VALID_VAULT}))


def _models_accept(data: Any) -> bool:
    try:
        Root.model_validate(data)
    except ValidationError:
        return False
    return True


def _tables(root: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, object]]]:
    """Every table of a valid file, with the keys the schema defines in it."""
    vault, sync = root["vault"], root["vault"]["sync"]
    found = [(root, config._ROOT_FIELDS), (vault, config._VAULT_FIELDS)]
    found.append((sync, config._SYNC_FIELDS))
    return found + [(mapping, config._MAPPING_FIELDS) for mapping in sync["mappings"]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALID_ROOT)
def test_the_check_accepts_every_valid_file(data: dict[str, Any]) -> None:
    assert _models_accept(data)
    assert config._conforms(data)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALID_ROOT, st.data())
def test_one_changed_value_makes_both_agree(root: dict[str, Any], data: st.DataObject) -> None:
    # A valid file with one key of the schema removed or set to any TOML value.
    table, fields = data.draw(st.sampled_from(_tables(root)))
    key = data.draw(st.sampled_from(list(fields)))
    value = data.draw(
        st.one_of(
            st.just(_DELETE),
            st.booleans(),
            st.sampled_from(_EDGES),
            st.sampled_from(_FLOAT_EDGES),
            st.sampled_from(["", "x"]),
            _ANY,
        )
    )
    if value is _DELETE:
        table.pop(key, None)
    else:
        table[key] = value
    assert config._conforms(root) == _models_accept(root)


@pytest.mark.parametrize(
    ("fields", "model"),
    [
        (config._MAPPING_FIELDS, MappingTable),
        (config._SYNC_FIELDS, SyncTable),
        (config._VAULT_FIELDS, VaultTable),
        (config._ROOT_FIELDS, Root),
    ],
)
def test_the_check_knows_every_key_of_the_models_in_their_order(
    fields: dict[str, object], model: type[Any]
) -> None:
    # Unknown-key warnings and their did-you-mean come from the check's keys.
    assert list(fields) == list(model.model_fields)


def test_a_valid_file_is_read_without_pydantic(tmp_path: Any) -> None:
    (tmp_path / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\ntimeout = 30\n[vault.files]\npath = "s"\n'
        '[vault.sync]\nmax_workers = 4\n[[vault.sync.mappings]]\nsecret_name = "k"\n'
        'folder_path = "api"\nenvironment = "staging"\n'
    )
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from envdrift.config import load_config\n"
        "config = load_config(None, Path.cwd())\n"
        "assert config.mappings[0].key_name == 'DOTENV_PRIVATE_KEY_STAGING', config\n"
        "assert config.limits.timeout == 30.0 and config.jobs == 4, config\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')"
        " or m == 'envdrift._schema'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
