"""``envdrift pull``: sync, then decrypt every mapped env file in place, concurrently.

The sync is ``run_sync`` itself, in the same modes. Then each mapping whose sync
succeeded has its env files (``envdrift.mapfiles``) decrypted with the vault's key,
held in memory (an ephemeral mapping's key never reaches disk), and with the keys the
user already has. A mapping whose sync failed is not decrypted: its files stay as they
are. One file failing to decrypt fails that mapping only, and the file is unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envdrift._concurrent import each_concurrently
from envdrift._fs import relative_path
from envdrift.dotenvx.operations import decrypt_file
from envdrift.dotenvx.suffix import private_key_name
from envdrift.errors import EnvdriftError
from envdrift.mapfiles import mapping_env_files

if TYPE_CHECKING:
    from envdrift.sync import MappingResult, SyncReport

__all__ = ["FileOutcome", "MappingPull", "decrypt_mapped"]


@dataclass(frozen=True)
class FileOutcome:
    """One env file after the decrypt step.

    Attributes:
        path: The file.
        outcome: ``decrypted``, ``unchanged`` (nothing encrypted in it) or ``error``.
        values: How many values were decrypted.
        reason: For errors: why (names of values, never their content).
    """

    path: Path
    outcome: str
    values: int = 0
    reason: str = ""


@dataclass
class MappingPull:
    """One mapping's two steps.

    Attributes:
        sync: The sync step's result.
        files: The decrypt step's result per file (empty when it did not run).
        skipped: Why the decrypt step did not run for this mapping ("" when it did).
    """

    sync: MappingResult
    files: list[FileOutcome] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        """The sync step succeeded and every file decrypted."""
        return self.sync.ok and all(f.outcome != "error" for f in self.files)

    def decrypt_dict(self, root: Path) -> dict[str, Any]:
        """The decrypt step in the ``--format json`` document."""
        return {
            "ok": self.ok,
            "skipped": self.skipped or None,
            "files": [
                {
                    "path": relative_path(f.path, root),
                    "outcome": f.outcome,
                    "values": f.values,
                    "reason": f.reason,
                }
                for f in self.files
            ],
        }


def decrypt_mapped(
    report: SyncReport,
    keys_filename: str,
    *,
    jobs: int,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[MappingPull]:
    """Decrypt the env files of every mapping ``report`` synced successfully.

    Args:
        report: The sync step's report.
        keys_filename: The keys file name (never decrypted).
        jobs: Files decrypted at once.
        environ: The environment (``DOTENV_PRIVATE_KEY*`` are candidates too).
        progress: Told ``("decrypting", done, total)`` as files finish.
    """
    base = dict(os.environ if environ is None else environ)
    pulls = [MappingPull(result) for result in report.results]
    work: list[tuple[MappingPull, Path, dict[str, str]]] = []
    for pull in pulls:
        result = pull.sync
        if report.interrupted and result.ok:
            pull.skipped = "not decrypted: interrupted (Ctrl-C)"
            continue
        if not result.ok:
            pull.skipped = "not decrypted: the sync step failed"
            continue
        try:
            paths = mapping_env_files(result.mapping, keys_filename)
        except EnvdriftError as exc:
            pull.files.append(FileOutcome(result.mapping.folder, "error", reason=str(exc)))
            continue
        if not paths:
            pull.skipped = "no env file of this environment in the folder"
            continue
        for path in paths:
            env = dict(base)
            if result.vault_key is not None and str(result.outcome) != "skipped":
                # The vault's key first, in memory; the keys files are still read too.
                env[private_key_name(path)] = result.vault_key.reveal()
            work.append((pull, path, env))
    outcomes = each_concurrently(
        lambda item: _decrypt_one(item[1], item[2]), work, jobs, phase="decrypting", notify=progress
    )
    for (pull, _, _), outcome in zip(work, outcomes, strict=True):
        pull.files.append(outcome)
    return pulls


def _decrypt_one(path: Path, environ: dict[str, str]) -> FileOutcome:
    if not path.exists():
        return FileOutcome(path, "error", reason=f"{path}: no such env file (env_file)")
    try:
        done = decrypt_file(path, environ=environ)
    except EnvdriftError as exc:
        return FileOutcome(path, "error", reason=str(exc))
    if not done.changed:
        return FileOutcome(path, "unchanged")
    return FileOutcome(path, "decrypted", values=len(done.decrypted))
