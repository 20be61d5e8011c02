"""Key names from env file names, as dotenvx 2.x derives them (table checked against it)."""

from __future__ import annotations

import pytest
from envdrift.dotenvx.suffix import environment_suffix, private_key_name, public_key_name


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        (".env", ""),
        (".env.production", "_PRODUCTION"),
        (".env.ci.local", "_CI_LOCAL"),
        (".env.a.b.c", "_A_B"),
        ("postgresql.env", "_POSTGRESQLDEVELOPMENT"),
        (".env1", "_DEVELOPMENT1"),
        (".envrc", "_DEVELOPMENTRC"),
        ("env", "_ENV"),
        (".env.my-app", "_MY-APP"),
        (".env.Staging", "_STAGING"),
        ("config.env.production", "_PRODUCTION"),
        (".env.production.txt", "_PRODUCTION"),
        (".env.txt", ""),
        ("services/app/.env.production", "_PRODUCTION"),
    ],
)
def test_suffix(name: str, suffix: str) -> None:
    assert environment_suffix(name) == suffix


def test_key_names() -> None:
    assert public_key_name(".env.production") == "DOTENV_PUBLIC_KEY_PRODUCTION"
    assert private_key_name(".env") == "DOTENV_PRIVATE_KEY"
