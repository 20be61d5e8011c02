"""``envdrift set``: one value written into an env file, encrypted as ``dotenvx set`` does.

The value is encrypted for the file's ``DOTENV_PUBLIC_KEY*``: no private key is needed.
An existing assignment keeps its place, quote, ``export`` and comment (every assignment
of the key is rewritten, so whichever one a loader reads has the new value); a new key
is appended as ``KEY="encrypted:…"``. Other values are left exactly as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from envdrift._fs import atomic_write
from envdrift.dotenvx.crypto import Encryptor
from envdrift.dotenvx.envfile import EnvFile, Span
from envdrift.dotenvx.keyring import file_public_key
from envdrift.dotenvx.operations import check_env_file_name, safe_quote
from envdrift.dotenvx.suffix import PRIVATE_KEY_NAME, PUBLIC_KEY_NAME
from envdrift.errors import ConfigError, FormatError

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.dotenvx.envfile import Entry

__all__ = ["SetOutcome", "check_key_name", "set_value"]

#: The names dotenv loaders read as a key (dotenvx's parser pattern).
_KEY_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class SetOutcome:
    """What ``set_value`` did: the key was ``replaced`` (how many assignments) or added."""

    key: str
    replaced: int
    encrypted: bool


def check_key_name(key: str) -> None:
    """Refuse a name no loader reads, a public-key line, and any private key.

    Raises:
        ConfigError: naming the problem and the fix.
    """
    if not _KEY_NAME.fullmatch(key):
        raise ConfigError(f"{key!r} is not a variable name dotenv reads (letters, digits, _ . -)")
    if key.startswith(PRIVATE_KEY_NAME):
        raise ConfigError(
            f"{key} is a private key: it belongs in .env.keys (or the vault), never in an "
            "env file that is committed"
        )
    if key.startswith(PUBLIC_KEY_NAME):
        raise ConfigError(f"{key} is the file's public key; it changes only with `envdrift rotate`")


def set_value(path: Path, key: str, value: str, *, plain: bool = False) -> SetOutcome:
    """Write ``key=value`` into the env file at ``path``, encrypted unless ``plain``.

    Raises:
        ConfigError: the name is refused, or the file has no public key to encrypt for.
        FormatError: an assignment cannot be rewritten in place (naming its line), or
            the file would read differently once rewritten; nothing is written then.
    """
    check_key_name(key)
    check_env_file_name(path)
    env = EnvFile.read(path)
    public_key = None if plain else file_public_key(env)
    if public_key is None and not plain:
        raise ConfigError(
            f"{path} has no DOTENV_PUBLIC_KEY to encrypt for: run `envdrift encrypt {path}` "
            "first (or pass --plain to store the value readable)"
        )
    token = Encryptor(public_key).encrypt(value) if public_key else value
    ours = [entry for entry in env.entries if entry.key == key]
    if ours:
        text = env.rewrite(_span(env, entry, token, plain) for entry in ours)
    else:
        text = env.text + ("\n" if env.text and not env.text.endswith("\n") else "")
        text += f"{key}={_quoted(key, token, plain)}\n"
    _check(env, text, key, token)
    atomic_write(path, text.encode("utf-8"))
    return SetOutcome(key, len(ours), encrypted=not plain)


def _span(env: EnvFile, entry: Entry, token: str, plain: bool) -> tuple[Entry, Span, str]:
    span = env.locate(entry)
    if span is None:
        raise FormatError(
            f"{env.path}, line {entry.line}: {entry.key} cannot be rewritten in place; "
            "write it as KEY=value and run again (the file was not changed)"
        )
    if plain:
        tail = env.text[span.end : entry.end]
        quote = safe_quote(entry.key, span.quote, token, tail, quote_follows=False)
        if quote is None:
            raise FormatError(f"{env.path}, line {entry.line}: no quote can hold this value")
        span = replace(span, quote=quote)
    return entry, span, token


def _quoted(key: str, token: str, plain: bool) -> str:
    """A new line's value: in double quotes, as dotenvx writes it (another quote for a
    plain value that double quotes cannot hold)."""
    quote = safe_quote(key, '"', token) if plain else '"'
    if quote is None:
        raise FormatError(f"{key}: no quote can hold this value")
    return f"{quote}{token}{quote}"


def _check(env: EnvFile, text: str, key: str, token: str) -> None:
    """``text`` must read as ``env`` with ``key`` set to ``token`` (and one more entry
    when it was added).

    Raises:
        FormatError: some assignment would read differently; nothing is written.
    """
    expected = [(e.key, token if e.key == key else e.value) for e in env.entries]
    if not any(e.key == key for e in env.entries):
        expected.append((key, token))
    after = [(e.key, e.value) for e in EnvFile(text).entries]
    if after != expected:
        raise FormatError(
            f"{env.path}: setting {key} would change how other lines read (a value that runs "
            "on into the next lines?); the file was not changed"
        )
