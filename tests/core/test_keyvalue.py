"""normalize_private_key: every shape a vault value arrives in, and every refusal."""

from __future__ import annotations

import json

import pytest
from envdrift import FormatError, Secret
from envdrift.keyvalue import is_private_key, normalize_private_key, private_key_name

from tests.core.sync_helpers import KEY_A, KEY_B

HEADER = (
    "#/------------------!DOTENV_PRIVATE_KEYS!-------------------/\n"
    "#/ private decryption keys. DO NOT commit to source control /\n"
    "#/----------------------------------------------------------/\n"
)


def norm(value: str, environment: str = "production") -> str:
    return normalize_private_key(Secret(value), environment, source="secret 'x'").reveal()


ACCEPTED = {
    "bare": KEY_A,
    "upper-case hex": KEY_A.upper(),
    "surrounding whitespace": f"  \n\t{KEY_A}\r\n",
    "trailing newline": KEY_A + "\n",
    "BOM": "\ufeff" + KEY_A,
    "double quotes": f'"{KEY_A}"',
    "single quotes": f"'{KEY_A}'",
    "backticks": f"`{KEY_A}`",
    "quotes and blanks inside": f'" {KEY_A} "',
    "env line": f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}",
    "env line double-quoted value": f'DOTENV_PRIVATE_KEY_PRODUCTION="{KEY_A}"',
    "env line single-quoted value": f"DOTENV_PRIVATE_KEY_PRODUCTION='{KEY_A}'",
    "env line with export and spaces": f"export DOTENV_PRIVATE_KEY_PRODUCTION = {KEY_A}  ",
    "env line with comment": f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A} # from laptop",
    "whole env line quoted": f'"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}"',
    "json value": json.dumps({"value": KEY_A}),
    "json labelled": json.dumps({"DOTENV_PRIVATE_KEY_PRODUCTION": KEY_A}),
    "json with other fields": json.dumps({"value": KEY_A, "created_by": "ci"}),
    "json value holding an env line": json.dumps(
        {"value": f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}"}
    ),
    "json both fields agree": json.dumps({"value": KEY_A, "DOTENV_PRIVATE_KEY_PRODUCTION": KEY_A}),
    "keys file": f"{HEADER}\n# .env.production\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\n",
    "keys file, several environments": (
        f"{HEADER}\n# .env.staging\nDOTENV_PRIVATE_KEY_STAGING={KEY_B}\n"
        f"\n# .env.production\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\n"
    ),
    "keys file with CRLF": f"# c\r\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\r\n",
    "keys file, duplicate equal lines": (
        f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_A.upper()}\n"
    ),
}


@pytest.mark.parametrize("value", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_shapes_give_the_bare_lower_case_key(value: str) -> None:
    assert norm(value) == KEY_A


def test_environment_selects_the_label() -> None:
    blob = f"DOTENV_PRIVATE_KEY_STAGING={KEY_B}\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\n"
    assert norm(blob, "staging") == KEY_B
    assert norm(f"DOTENV_PRIVATE_KEY_MY-APP={KEY_B}", "my-app") == KEY_B


def test_the_plain_env_file_has_no_suffix() -> None:
    assert private_key_name("") == "DOTENV_PRIVATE_KEY"
    assert private_key_name("ci_local") == "DOTENV_PRIVATE_KEY_CI_LOCAL"
    assert norm(f"DOTENV_PRIVATE_KEY={KEY_A}", "") == KEY_A


REFUSED = {
    "empty": ("", "is empty"),
    "blank": (" \n\t", "is empty"),
    "too short": ("abc123", "6 hex characters, not 64"),
    "too long": (KEY_A + "00", "66 hex characters"),
    "public key": ("02" + KEY_A, "a public key"),
    "0x prefix": ("0x" + KEY_A, "0x prefix"),
    "not hex": ("g" * 64, "64 characters, but not all hexadecimal"),
    "zero scalar": ("0" * 64, "out of range"),
    "scalar above the curve order": ("f" * 64, "out of range"),
    "prose": ("hunter2 is my password", "character value that is not a key"),
    "comma list": (f"{KEY_A},{KEY_B}", "comma-separated list"),
    "line for another environment": (
        f"DOTENV_PRIVATE_KEY_STAGING={KEY_A}",
        "holds DOTENV_PRIVATE_KEY_STAGING, not DOTENV_PRIVATE_KEY_PRODUCTION",
    ),
    "keys file for other environments": (
        f"{HEADER}DOTENV_PRIVATE_KEY_STAGING={KEY_A}\nDOTENV_PRIVATE_KEY_CI={KEY_B}\n",
        "holds DOTENV_PRIVATE_KEY_STAGING, DOTENV_PRIVATE_KEY_CI, not",
    ),
    "json for another environment": (
        json.dumps({"DOTENV_PRIVATE_KEY_STAGING": KEY_A}),
        "holds DOTENV_PRIVATE_KEY_STAGING",
    ),
    "json value for another environment": (
        json.dumps({"value": f"DOTENV_PRIVATE_KEY_STAGING={KEY_A}"}),
        "holds DOTENV_PRIVATE_KEY_STAGING",
    ),
    "unrelated assignment": (f"API_TOKEN={KEY_A}", "NAME=value lines without"),
    "json without a key field": (json.dumps({"secret": KEY_A}), "without a 'value'"),
    "json array": (json.dumps([KEY_A]), "got a JSON list"),
    "broken json": ('{"value": "' + KEY_A, "does not parse"),
    "json with a number": (json.dumps({"value": 12}), "must be a string, not int"),
    "json inside json": (json.dumps({"value": json.dumps({"value": KEY_A})}), "JSON inside JSON"),
    "json fields disagree": (
        json.dumps({"value": KEY_A, "DOTENV_PRIVATE_KEY_PRODUCTION": KEY_B}),
        "disagree",
    ),
    "duplicate different lines": (
        f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\nDOTENV_PRIVATE_KEY_PRODUCTION={KEY_B}\n",
        "2 different values",
    ),
    "garbage line in a blob": (
        f"DOTENV_PRIVATE_KEY_PRODUCTION={KEY_A}\nthis is not a line\n",
        "line 2 of the value",
    ),
    "labelled but not a key": ("DOTENV_PRIVATE_KEY_PRODUCTION=changeme", "8-character value"),
    "PEM": (
        "-----BEGIN EC PRIVATE KEY-----\nMHQCAQEEI\n-----END EC PRIVATE KEY-----",
        "line 1 of the value",
    ),
}


@pytest.mark.parametrize(("value", "expected"), REFUSED.values(), ids=REFUSED.keys())
def test_refusals_describe_the_shape_never_the_value(value: str, expected: str) -> None:
    with pytest.raises(FormatError) as info:
        norm(value)
    message = str(info.value)
    assert expected in message
    assert message.startswith("secret 'x'")
    for secret_part in (KEY_A, KEY_B, KEY_A.upper(), "hunter2", "changeme", "MHQCAQEEI", "abc123"):
        assert secret_part not in message


def test_is_private_key() -> None:
    assert is_private_key(KEY_A)
    assert not is_private_key(KEY_A[:-1])
    assert not is_private_key("0" * 64)
