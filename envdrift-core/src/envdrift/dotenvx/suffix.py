"""Key names from file names: ``.env.production`` → ``DOTENV_PUBLIC_KEY_PRODUCTION``.

This is dotenvx 2.x's rule, checked against the real CLI for every example below:

==========================  ==========================
file                        suffix
==========================  ==========================
``.env``                    (none)
``.env.production``         ``_PRODUCTION``
``.env.ci.local``           ``_CI_LOCAL``
``.env.a.b.c``              ``_A_B``
``postgresql.env``          ``_POSTGRESQLDEVELOPMENT``
``.env1``                   ``_DEVELOPMENT1``
``env``                     ``_ENV``
``config.env.production``   ``_PRODUCTION``
``.env.production.txt``     ``_PRODUCTION``
==========================  ==========================
"""

from __future__ import annotations

from pathlib import PurePath

__all__ = [
    "PRIVATE_KEY_NAME",
    "PUBLIC_KEY_NAME",
    "environment_suffix",
    "key_name",
    "private_key_name",
    "public_key_name",
]

#: dotenvx's key names, defined here once: every other module imports them.
PUBLIC_KEY_NAME = "DOTENV_PUBLIC_KEY"
PRIVATE_KEY_NAME = "DOTENV_PRIVATE_KEY"


def environment_suffix(path: str | PurePath) -> str:
    """Return the suffix dotenvx appends to key names for the env file ``path``.

    The result is ``""`` for ``.env`` and otherwise starts with ``_``. It may hold
    characters that are not valid in a shell name (``.env.my-app`` → ``_MY-APP``), as
    dotenvx's does.
    """
    name = PurePath(path).name.lower()
    if name.startswith(".env") and name.endswith(".txt"):
        name = name[: -len(".txt")]
    if name == ".env":
        return ""
    parts = name.split(".")[2:]
    # No parts after the second dot: the first ".env" reads as "development".
    environment = "_".join(parts[:2]) if parts else name.replace(".env", "development", 1)
    return "_" + environment.upper()


def key_name(prefix: str, environment: str) -> str:
    """``prefix`` for an environment: ``DOTENV_PRIVATE_KEY_PRODUCTION`` for
    ``(PRIVATE_KEY_NAME, "production")``, the bare ``prefix`` for ``""``."""
    return f"{prefix}_{environment.upper()}" if environment else prefix


def public_key_name(path: str | PurePath) -> str:
    """Return ``DOTENV_PUBLIC_KEY<suffix>`` for the env file ``path``."""
    return PUBLIC_KEY_NAME + environment_suffix(path)


def private_key_name(path: str | PurePath) -> str:
    """Return ``DOTENV_PRIVATE_KEY<suffix>`` for the env file ``path``."""
    return PRIVATE_KEY_NAME + environment_suffix(path)
