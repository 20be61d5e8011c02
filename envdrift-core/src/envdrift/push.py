"""``vault-push``: store local private keys in the vault.

For each mapping, the key ``DOTENV_PRIVATE_KEY_<ENV>`` is read from the folder's keys
file and stored in the vault as the bare key. A different value already in the vault is
kept unless ``force`` is given (the vault keeps the old version either way); an equal
value is "unchanged". ``verify`` only reports what would be pushed.
"""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envdrift.dotenvx.keysfile import KeysFile
from envdrift.dotenvx.suffix import PRIVATE_KEY_NAME
from envdrift.errors import EnvdriftError, FormatError, NotFoundError
from envdrift.keyvalue import is_private_key, normalize_private_key
from envdrift.secrets import Secret

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from envdrift.config import SyncMapping
    from envdrift.session import VaultSet
    from envdrift.vaults import Vault

__all__ = ["PushOutcome", "PushReport", "PushResult", "run_push"]


class PushOutcome(enum.StrEnum):
    """What happened to one mapping."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WOULD_CREATE = "would-create"
    WOULD_UPDATE = "would-update"
    ERROR = "error"


@dataclass
class PushResult:
    """One mapping's push."""

    mapping: SyncMapping
    keys_file: Path
    secret: str = ""
    vault: str = ""
    outcome: PushOutcome | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (no key)."""
        return {
            "folder": self.mapping.folder_path,
            "secret": self.secret,
            "environment": self.mapping.environment,
            "vault": self.vault,
            "outcome": str(self.outcome),
            "reason": self.reason,
        }


@dataclass
class PushReport:
    """Every mapping's result, in config order."""

    results: list[PushResult] = field(default_factory=list)
    verify: bool = False

    @property
    def exit_code(self) -> int:
        """1 when any mapping failed or (with ``verify``) would change; else 0."""
        drift = {PushOutcome.WOULD_CREATE, PushOutcome.WOULD_UPDATE}
        if any(r.outcome is PushOutcome.ERROR for r in self.results):
            return 1
        return 1 if self.verify and any(r.outcome in drift for r in self.results) else 0

    def counts(self) -> dict[str, int]:
        """How many mappings ended in each outcome."""
        counts = {str(o): 0 for o in PushOutcome}
        for result in self.results:
            counts[str(result.outcome)] += 1
        return counts


def run_push(
    vaults: VaultSet,
    mappings: Sequence[SyncMapping],
    *,
    force: bool = False,
    verify: bool = False,
    jobs: int = 8,
) -> PushReport:
    """Push each mapping's local key to its vault; one failure never stops the others.

    Args:
        vaults: The run's session (``envdrift.session.open_vaults``); the caller closes it.
        mappings: The mappings to push.
        force: Store the local key over a different vault value.
        verify: Store nothing; report what would change.
        jobs: Concurrent reads of the vault's current values.
    """
    report = PushReport(verify=verify)
    local: dict[int, Secret] = {}
    by_vault: dict[int, tuple[Vault, list[PushResult]]] = {}
    for mapping in mappings:
        result = PushResult(mapping, mapping.folder / vaults.config.env_keys_filename)
        report.results.append(result)
        vault, result.secret = vaults.for_mapping(mapping)
        result.vault = vault.describe()
        try:
            local[id(result)] = _local_key(result)
        except EnvdriftError as exc:
            result.outcome, result.reason = PushOutcome.ERROR, str(exc)
            continue
        by_vault.setdefault(id(vault), (vault, []))[1].append(result)
    for vault, results in by_vault.values():
        current = vault.fetch_many([r.secret for r in results], jobs=jobs)
        for result in results:
            _push_one(result, vault, local[id(result)], current.get(result.secret), force, verify)
    return report


def _local_key(result: PushResult) -> Secret:
    name = result.mapping.key_name
    keys = KeysFile.read(result.keys_file)
    key = keys.get(name)
    if key is None:
        raise FormatError(f"{result.keys_file}: no {name} line to push{_other_envs(result, keys)}")
    value = key.reveal().strip().lower()
    if not is_private_key(value):
        raise FormatError(f"{result.keys_file}: {name} is not a 64-hex private key")
    return Secret(value)


def _other_envs(result: PushResult, keys: KeysFile) -> str:
    """``; it holds DOTENV_PRIVATE_KEY_STAGING: pass --env staging`` when the keys file
    holds other environments' keys (the usual cause: a file not named ``.env.production``)."""
    prefix = f"{PRIVATE_KEY_NAME}_"
    others = [n for n in keys.names() if n.startswith(prefix) and n != result.mapping.key_name]
    if not others:
        return ""
    envs = [n.removeprefix(prefix).lower() for n in others]
    if result.mapping.origin == "the command line":
        fix = " or ".join(f"--env {shlex.quote(env)}" for env in envs)
        return f"; it holds {', '.join(others)}: to push that key, pass {fix}"
    fix = " or ".join(f'environment = "{env}"' for env in envs)
    return f"; it holds {', '.join(others)}: to push that key, set {fix} in the mapping"


def _push_one(
    result: PushResult,
    vault: Vault,
    key: Secret,
    current: Secret | EnvdriftError | None,
    force: bool,
    verify: bool,
) -> None:
    if isinstance(current, NotFoundError) or current is None:
        existing = None
    elif isinstance(current, EnvdriftError):
        result.outcome, result.reason = PushOutcome.ERROR, str(current)
        return
    else:
        source = f"secret {result.secret!r} in {result.vault}"
        try:
            existing = normalize_private_key(current, result.mapping.environment, source=source)
        except FormatError:
            existing = current  # not a key at all: a different value
        if existing == key:
            result.outcome = PushOutcome.UNCHANGED
            return
        if not force and not verify:
            result.outcome = PushOutcome.ERROR
            result.reason = (
                f"{result.vault} already holds a different value for {result.secret!r}; "
                "pass --force to store the local key as a new version"
            )
            return
    if verify:
        result.outcome = PushOutcome.WOULD_CREATE if existing is None else PushOutcome.WOULD_UPDATE
        return
    try:
        vault.store(result.secret, key)
    except EnvdriftError as exc:
        result.outcome, result.reason = PushOutcome.ERROR, str(exc)
        return
    except Exception as exc:
        # A backend bug stays on its mapping, as in sync; --debug shows the traceback.
        if vault.context.debug:
            raise
        result.outcome = PushOutcome.ERROR
        result.reason = str(vault.unexpected(exc, f"storing secret {result.secret!r}"))
        return
    result.outcome = PushOutcome.CREATED if existing is None else PushOutcome.UPDATED
