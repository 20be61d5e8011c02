"""``envdrift lock``: check every local key against the vault, then encrypt every mapped
env file to it; or (``--check``) only report the files that still hold plaintext.

The check is ``run_sync`` in ``verify`` mode (an ephemeral mapping uses the vault's key
and has no local one to compare). Then each mapping's env files (``envdrift.mapfiles``)
must either carry no public key yet or carry the vault key's. Any problem anywhere stops
the whole command before a single file is encrypted: the caller prints the problems and
writes nothing. Only then is every file encrypted, concurrently, to the vault's key
(held in memory; an ephemeral mapping's key never reaches disk).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envdrift._concurrent import each_concurrently
from envdrift._fs import relative_path
from envdrift.dotenvx.crypto import public_key_of
from envdrift.dotenvx.envfile import EnvFile, read_env_text
from envdrift.dotenvx.keyring import file_public_key
from envdrift.dotenvx.operations import encrypt_file
from envdrift.dotenvx.suffix import private_key_name
from envdrift.errors import EnvdriftError

if TYPE_CHECKING:
    from envdrift.config import SyncMapping
    from envdrift.secrets import Secret
    from envdrift.sync import MappingResult, SyncReport

__all__ = ["FileLock", "MappingLock", "check_plaintext", "encrypt_locked", "preflight"]


@dataclass
class FileLock:
    """One env file.

    Attributes:
        path: The file.
        outcome: ``encrypted``, ``unchanged`` (nothing left to encrypt); with
            ``--check``: ``clean`` or ``plaintext`` (values not encrypted); ``error``.
        names: The values encrypted now (``encrypted``) or still in plaintext
            (``plaintext``, ``error`` for values that cannot be encrypted in place).
        reason: For errors: why.
    """

    path: Path
    outcome: str = ""
    names: list[str] = field(default_factory=list)
    reason: str = ""

    def as_dict(self, root: Path) -> dict[str, Any]:
        """The JSON form (names only, never values)."""
        return {
            "path": relative_path(self.path, root),
            "outcome": self.outcome,
            "values": list(self.names),
            "reason": self.reason,
        }


@dataclass
class MappingLock:
    """One mapping: its key check (``sync``), its files, and what stops the lock.

    Attributes:
        mapping: The mapping.
        sync: The ``verify`` result (``None`` with ``--check``).
        files: Its env files.
        problem: Why this mapping stops the lock ("" when it does not).
        kind: What kind of problem: a ``Drift`` value, ``error`` or ``file``.
    """

    mapping: SyncMapping
    sync: MappingResult | None = None
    files: list[FileLock] = field(default_factory=list)
    problem: str = ""
    kind: str = ""

    @property
    def key(self) -> Secret | None:
        """The vault's key, once the check passed."""
        return self.sync.vault_key if self.sync is not None and not self.problem else None


def check_plaintext(
    mappings: Sequence[SyncMapping], keys_filename: str, *, jobs: int
) -> list[MappingLock]:
    """``--check``: find the plaintext values of every mapped env file; change nothing."""
    locks = [MappingLock(mapping) for mapping in mappings]
    work = []
    for lock in locks:
        for path in _files(lock, keys_filename):
            work.append(path)
    each_concurrently(_check_one, work, jobs)
    return locks


def preflight(report: SyncReport, keys_filename: str) -> list[MappingLock]:
    """Turn the ``verify`` report into locks; set ``problem`` wherever the lock must stop.

    A mapping stops it when its key is missing, differs or cannot be fetched, or when
    one of its files is already encrypted to another key than the vault's.
    """
    locks = []
    for result in report.results:
        lock = MappingLock(result.mapping, sync=result)
        locks.append(lock)
        if not result.ok:
            lock.problem = result.reason or f"sync outcome {result.outcome}"
            lock.kind = str(result.drift) if result.drift else "error"
            continue
        key = result.vault_key
        if key is None:  # pragma: no cover - a verified mapping always has the vault's key
            lock.problem, lock.kind = "no key was fetched", "error"
            continue
        vault_public = public_key_of(key)
        for file in _files(lock, keys_filename):
            problem = _foreign_key(file.path, vault_public)
            if problem:
                file.outcome, file.reason = "error", problem
                lock.problem, lock.kind = lock.problem or problem, "file"
    return locks


def encrypt_locked(
    locks: Sequence[MappingLock], *, jobs: int, environ: Mapping[str, str] | None = None
) -> None:
    """Encrypt every file of every lock to its mapping's vault key (after ``preflight``
    found no problem)."""
    if any(lock.problem for lock in locks):
        raise ValueError("encrypt_locked after a failed preflight")
    base = dict(os.environ if environ is None else environ)
    work = []
    for lock in locks:
        key = lock.key
        if key is None:  # pragma: no cover - preflight passed
            continue
        for file in lock.files:
            env = {**base, private_key_name(file.path): key.reveal()}
            work.append((file, env))

    def encrypt(item: tuple[FileLock, dict[str, str]]) -> None:
        file, env = item
        try:
            done = encrypt_file(file.path, environ=env)
        except EnvdriftError as exc:
            file.outcome, file.reason = "error", str(exc)
            return
        file.names = list(done.encrypted)
        if done.leftovers:
            file.outcome = "error"
            file.reason = "; ".join(left.describe() for left in done.leftovers)
        else:
            file.outcome = "encrypted" if done.changed else "unchanged"

    each_concurrently(encrypt, work, jobs)


def _files(lock: MappingLock, keys_filename: str) -> list[FileLock]:
    from envdrift.mapfiles import mapping_env_files

    try:
        paths = mapping_env_files(lock.mapping, keys_filename)
    except EnvdriftError as exc:
        lock.problem, lock.kind = str(exc), "file"
        return []
    lock.files = [FileLock(path) for path in paths]
    for file in lock.files:
        if not file.path.exists():
            file.outcome = "error"
            file.reason = f"{file.path}: no such env file (env_file of {lock.mapping.origin})"
            lock.problem, lock.kind = lock.problem or file.reason, "file"
    return [file for file in lock.files if not file.outcome]


def _foreign_key(path: Path, vault_public: str) -> str:
    """Why ``path`` may not be encrypted to the vault's key, or ""."""
    try:
        env = EnvFile(read_env_text(path), path)
    except (FileNotFoundError, EnvdriftError) as exc:
        return f"cannot read {path}: {exc}"
    public = file_public_key(env)
    if public is None or public == vault_public:
        return ""
    return f"{path} is encrypted to another key than the vault's"


def _check_one(file: FileLock) -> None:
    try:
        done = encrypt_file(file.path, check=True)
    except EnvdriftError as exc:
        file.outcome, file.reason = "error", str(exc)
        return
    file.names = list(done.encrypted) + [left.key for left in done.leftovers]
    file.outcome = "plaintext" if file.names else "clean"
