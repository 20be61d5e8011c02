"""The environment ``envdrift run`` gives a command: env files decrypted in memory.

The rules are ``dotenvx run``'s (2.38), read from its source and checked against the
real CLI (``tests/core/test_run_dotenvx.py``):

* files are read in the order given (each ``-f`` may hold a comma list; a folder means
  its ``.env``); without ``-f``, ``.env``, or, when ``DOTENV_PRIVATE_KEY*`` variables
  are set, the file each one names (``DOTENV_PRIVATE_KEY_CI`` → ``.env.ci``);
* a variable already in the environment keeps its value unless ``overload``; so without
  it the first file that sets a variable wins, with it the last one does; within one
  file the last assignment wins;
* values are decrypted, then ``$VAR``/``${VAR:-default}`` are expanded (not in
  single quotes), then ``\\$`` becomes ``$`` (``envdrift.dotenvx.expand``).

Where keys come from, per file: ``DOTENV_PRIVATE_KEY*`` in the environment; when none
of them is the file's key, the vault of the configured mapping covering the file's
folder; then ``.env.keys`` (beside the file, then here). Keys stay in memory and are
never part of the command's environment.

Deliberate differences (``docs/dotenvx-compat.md``): ``$(command)`` is never run; a
value that does not decrypt, or a missing file, stops the run before the command starts
instead of passing the ciphertext on with a logged error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift.dotenvx.crypto import Decryptor, decrypt_with_any, is_encrypted
from envdrift.dotenvx.envfile import EnvFile, read_env_text
from envdrift.dotenvx.expand import expand, has_command_substitution, unescape_dollars
from envdrift.dotenvx.keyring import Keyring, file_public_key
from envdrift.dotenvx.suffix import PRIVATE_KEY_NAME, private_key_name
from envdrift.errors import ConfigError, DecryptionError, EnvdriftError, FormatError

if TYPE_CHECKING:
    from envdrift.config import Config
    from envdrift.secrets import Secret
    from envdrift.session import VaultSet

__all__ = ["Injection", "VaultKeys", "build_environment", "env_files"]

#: Asked for a file's vault key when no environment variable opens it: ``(key, where)``
#: or ``None`` when no mapping covers the file. May raise ``EnvdriftError``.
VaultKeyLookup = Callable[[Path], "tuple[Secret, str] | None"]


def env_files(specs: Sequence[str], environ: Mapping[str, str]) -> list[Path]:
    """The files ``dotenvx run`` would read for these ``-f`` values, in order."""
    paths: list[str] = []
    for spec in specs:
        paths.extend(part.strip() for part in spec.split(",") if part.strip())
    if not paths:
        names = [name for name in environ if name.startswith(PRIVATE_KEY_NAME)]
        paths = [_guess_file(name) for name in names] or [".env"]
    return [Path(p) / ".env" if os.path.isdir(p) else Path(p) for p in paths]


def _guess_file(private_key_name: str) -> str:
    """dotenvx's guess: ``DOTENV_PRIVATE_KEY_CI_LOCAL`` → ``.env.ci.local``."""
    if private_key_name == PRIVATE_KEY_NAME:
        return ".env"
    suffix = private_key_name[len(PRIVATE_KEY_NAME) + 1 :]
    return ".env." + ".".join(suffix.split("_")).lower()


@dataclass
class Injection:
    """What the command gets, and what to tell the user (names only, never values).

    Attributes:
        environ: The command's whole environment.
        injected: Variables set from the files, in order.
        loaded: Every variable the files assign (also those the environment kept).
        notes: Lines for stderr (a vault fallback, an unexecuted ``$(…)``).
    """

    environ: dict[str, str]
    injected: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Injection(injected={self.injected!r})"


def build_environment(
    files: Sequence[Path],
    *,
    environ: Mapping[str, str],
    overload: bool = False,
    keys_file: Path | None = None,
    vault_key: VaultKeyLookup | None = None,
) -> Injection:
    """Read, decrypt and expand ``files`` in order, as ``dotenvx run`` does, in memory.

    Args:
        files: From ``env_files``.
        environ: The environment the command inherits.
        overload: File values win over the environment (and later files over earlier).
        keys_file: ``-fk``: the only keys file to read.
        vault_key: Where a file's key comes from when the environment has none.

    Raises:
        ConfigError: a file does not exist (exit 2, as for ``decrypt``).
        DecryptionError: a value does not decrypt with any key found (names the values
            of every file, never their content; raised after all files were read).
        EnvdriftError: the vault failed and no keys file holds the key.
    """
    result = Injection(dict(environ))
    failures: list[str] = []
    for path in files:
        try:
            text = read_env_text(path)
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such env file; the command was not run") from None
        env = EnvFile(text, path)
        keys = functools.partial(_keys, env, result, keys_file, vault_key)
        failed = _inject(env, result, overload, keys)
        if failed:
            failures.append(f"{', '.join(failed)} in {path}")
    if failures:
        raise DecryptionError(
            f"could not decrypt {'; '.join(failures)} with any key found; the command was "
            "not run. Run `envdrift decrypt FILE --verify-vault` to see which key opens it"
        )
    return result


def _inject(
    env: EnvFile,
    result: Injection,
    overload: bool,
    keys: Callable[[], list[Decryptor]],
) -> list[str]:
    """Apply one file to ``result.environ`` (dotenvx's ``parse`` then ``inject``);
    return the names whose value stays encrypted."""
    process = result.environ
    parsed: dict[str, str] = {}
    literals: dict[str, str] = {}
    failed: list[str] = []
    decryptors: list[Decryptor] | None = None
    for entry in env.entries:
        name, value = entry.key, entry.value
        if value is None:
            continue
        if not overload and name in process:
            value = process[name]
        if is_encrypted(value):
            decryptors = keys() if decryptors is None else decryptors
            value = _decrypt(value, decryptors, env, entry.line, name)
            if is_encrypted(value):
                failed.append(name)
                continue
        quote = entry.quote
        substitutes = name not in process or process[name] == value
        if quote != "'" and substitutes and has_command_substitution(value):
            result.notes.append(
                f"{env.path}, line {entry.line}: {name} holds $(…), which envdrift run "
                "does not execute; it is passed as written"
            )
        if quote != "'" and (not process.get(name) or overload):
            value = unescape_dollars(
                expand(value, overload=overload, environ=process, running=parsed, literals=literals)
            )
        if quote == "'":
            literals[name] = value
        parsed[name] = value
    for name, value in parsed.items():
        if (name not in process or overload) and name not in result.injected:
            result.injected.append(name)
        if name not in result.loaded:
            result.loaded.append(name)
        process[name] = value
    return list(dict.fromkeys(failed))


def _decrypt(value: str, decryptors: list[Decryptor], env: EnvFile, line: int, name: str) -> str:
    """The plaintext, or ``value`` unchanged when no key opens it (dotenvx's rule)."""
    try:
        opened = decrypt_with_any(decryptors, value)
    except FormatError as exc:
        raise FormatError(f"{env.path}, line {line}: {name} holds a {exc}") from None
    return value if opened is None else opened[1]


def _keys(
    env: EnvFile, result: Injection, keys_file: Path | None, vault_key: VaultKeyLookup | None
) -> list[Decryptor]:
    """The decryptors for one file, best first: environment, vault, keys files."""
    path = env.path or Path(".env")
    public_key = file_public_key(env)
    ring = Keyring()
    ring.add_environment(result.environ)
    opened = public_key is not None and ring.matching(public_key) is not None
    vault_error: EnvdriftError | None = None
    if not opened and vault_key is not None:
        try:
            answer = vault_key(path)
        except EnvdriftError as exc:
            vault_error = exc
        else:
            if answer is not None:
                ring.add(answer[0], private_key_name(path), answer[1])
    ring.add_keys_files(path, keys_file=keys_file)
    if vault_error is not None:
        if public_key is None or ring.matching(public_key) is None:
            raise vault_error
        fallback = ring.matching(public_key)
        assert fallback is not None
        result.notes.append(
            f"{path}: the vault failed ({vault_error}); using {fallback.label} instead"
        )
    candidates = ring.ordered_for(public_key, private_key_name(path))
    return [Decryptor(candidate.key) for candidate in candidates]


class VaultKeys:
    """The vault keys of the mappings that cover env files, fetched once each.

    Args:
        config: The configuration, or ``None`` when there is none (no vault is asked).
        open_vaults: Opens the run's backends for ``config`` (on first need).
    """

    def __init__(self, config: Config | None, open_vaults: Callable[[Config], VaultSet]) -> None:
        self._config = config
        self._open = open_vaults
        self._vaults: VaultSet | None = None
        self._keys: dict[int, tuple[Secret, str]] = {}

    def __call__(self, path: Path) -> tuple[Secret, str] | None:
        """The key of the mapping whose folder holds ``path``, or ``None``.

        Raises:
            EnvdriftError: the backend failed, or its value is not a private key.
        """
        config = self._config
        if config is None:
            return None
        from envdrift.keyvalue import normalize_private_key
        from envdrift.targets import environment_of, mapping_for

        mapping = mapping_for(config, Path(os.path.abspath(path.parent)), environment_of(path))
        if mapping is None:
            return None
        if mapping.index not in self._keys:
            if self._vaults is None:
                self._vaults = self._open(config)
            vault, secret = self._vaults.for_mapping(mapping)
            source = f"secret {secret!r} in {vault.describe()}"
            value = vault.fetch(secret)
            key = normalize_private_key(value, mapping.environment, source=source)
            self._keys[mapping.index] = (key, source)
        return self._keys[mapping.index]

    def close(self) -> None:
        """Close the backends opened, if any."""
        if self._vaults is not None:
            self._vaults.close()
            self._vaults = None
