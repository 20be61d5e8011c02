"""The sync engine: bring every mapped folder's ``.env.keys`` in line with the vault.

No Click here: ``envdrift.cli.sync`` parses flags, asks questions and prints; this module
decides and writes. A run goes through five steps:

1. **Plan**: resolve each mapping's folder (it must exist, be a directory and stay inside
   the project root) and its backend; two mappings writing one key is an error on both.
2. **Fetch** every secret concurrently (``Vault.fetch_many``, at most ``jobs`` calls in
   flight in total) and normalise each value into a private key.
3. **Compare** with each folder's keys file: created, unchanged, or a mismatch.
4. **Resolve** mismatches: ``verify`` reports drift, ``force`` overwrites, an interactive
   run asks (``confirm``), anything else is an error.
5. **Write** each keys file once, atomically (mode 0600), after a 0600 backup when a key
   is replaced; then, with ``check_decryption``, prove in memory that each key decrypts
   its folder's encrypted env files.

A problem with one mapping (its folder, its secret, its keys file) is reported on that
mapping; the others still complete. Results come back in config order.
"""

from __future__ import annotations

import concurrent.futures
import enum
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envdrift._fs import DEFAULT_KEEP_BACKUPS, backup_stamp, folder_env_files, relative_path
from envdrift.dotenvx.envfile import read_env_text
from envdrift.dotenvx.keysfile import KeysFile, update_keys_file
from envdrift.errors import EnvdriftError, FormatError, NotFoundError
from envdrift.gitsafety import GitProtection, protect
from envdrift.keyvalue import normalize_private_key
from envdrift.secrets import Secret

if TYPE_CHECKING:
    from envdrift.config import Config, SyncMapping
    from envdrift.hookspecs import DecryptionCheck
    from envdrift.session import VaultSet
    from envdrift.vaults import Vault

__all__ = [
    "DEFAULT_JOBS",
    "ConfirmCallback",
    "Drift",
    "MappingResult",
    "Outcome",
    "ProgressCallback",
    "SyncOptions",
    "SyncReport",
    "run_sync",
]

#: Concurrent vault calls when neither ``--jobs`` nor ``max_workers`` says otherwise:
#: enough to hide 25 ms of latency per call across 200 mappings in under 0.2 s, and
#: within the connection pools of our own backends (AWS 32, HashiCorp 64).
DEFAULT_JOBS = 32


class Outcome(enum.StrEnum):
    """What happened to one mapping."""

    CREATED = "created"  #: the key was added to the keys file (created if need be)
    UPDATED = "updated"  #: a different local key was replaced (after a backup)
    UNCHANGED = "unchanged"  #: the local key already equals the vault's
    SKIPPED = "skipped"  #: a mismatch the user chose to keep (interactive runs only)
    EPHEMERAL = "ephemeral"  #: ``ephemeral_keys``: fetched and checked, written nowhere
    DRIFT = "drift"  #: ``verify``: the local key is missing or differs, or the secret is
    ERROR = "error"  #: the mapping could not be synced; ``reason`` says why


class Drift(enum.StrEnum):
    """Why a mapping is out of sync (``missing_secret``: on an ``error`` outcome)."""

    MISMATCH = "mismatch"
    MISSING_KEY = "missing_key"
    MISSING_SECRET = "missing_secret"


@dataclass(frozen=True)
class SyncOptions:
    """How a run behaves.

    Attributes:
        verify: Never write; report drift (mismatch, missing key). A secret missing
            from the vault is an error, with or without it.
        force: Overwrite a differing local key without asking.
        ci: Never ask; an unresolved mismatch is an error.
        check_decryption: Afterwards, prove each key decrypts its folder's env files.
        jobs: At most this many vault calls in flight.
        allow_outside_root: Let ``folder_path`` (or a symlinked keys file) lead outside
            the config's folder.
        keep_backups: Backups kept per keys file (the oldest go first); 0 writes none.
    """

    verify: bool = False
    force: bool = False
    ci: bool = False
    check_decryption: bool = False
    jobs: int = DEFAULT_JOBS
    allow_outside_root: bool = False
    keep_backups: int = DEFAULT_KEEP_BACKUPS

    def __post_init__(self) -> None:
        if self.verify and self.force:
            raise ValueError("verify and force exclude each other")
        if self.jobs < 1:
            raise ValueError("jobs must be at least 1")
        if self.keep_backups < 0:
            raise ValueError("keep_backups must be 0 or more")


@dataclass
class MappingResult:
    """The outcome of one mapping. Secret values appear only as ``Secret``.

    Attributes:
        mapping: The mapping.
        outcome: What happened (``None`` only while the run is in progress).
        reason: Why, for errors, drift and skips; empty otherwise.
        drift: For ``Outcome.DRIFT``: which kind; ``MISSING_SECRET`` on an error.
        keys_file: The keys file the mapping writes (``None`` if its folder is unusable).
        vault: How messages name the backend (``vault 'aws' (region eu-west-1)``).
        secret_name: The name asked of the backend.
        vault_key: The vault's key after normalisation.
        local_key: What the keys file held for this mapping before the run.
        backup: The backup written before this mapping's key was replaced.
        decryption: With ``check_decryption``: one check per encrypted env file.
        decryption_error: With ``check_decryption``: why nothing could be checked.
    """

    mapping: SyncMapping
    outcome: Outcome | None = None
    reason: str = ""
    drift: Drift | None = None
    keys_file: Path | None = None
    vault: str = ""
    secret_name: str = ""
    vault_key: Secret | None = None
    local_key: Secret | None = None
    backup: Path | None = None
    decryption: list[DecryptionCheck] | None = None
    decryption_error: str | None = None

    @property
    def decryption_ok(self) -> bool | None:
        """``None`` when not checked; else whether every file decrypted."""
        if self.decryption is None and self.decryption_error is None:
            return None
        return self.decryption_error is None and all(c.ok for c in self.decryption or [])

    @property
    def ok(self) -> bool:
        """False for errors, drift and failed decryption checks: what makes exit status 1."""
        return self.outcome not in {Outcome.ERROR, Outcome.DRIFT, None} and (
            self.decryption_ok is not False
        )

    def fail(self, reason: str) -> None:
        """Mark the mapping as an error (the first reason wins)."""
        if self.outcome is not Outcome.ERROR:
            self.outcome, self.reason = Outcome.ERROR, reason

    @property
    def pending(self) -> bool:
        return self.outcome is None

    def as_dict(self, salt: bytes, root: Path) -> dict[str, Any]:
        """Return the JSON form documented in ``docs/sync-json.md``."""
        from envdrift.keyvalue import public_fingerprint

        m = self.mapping
        return {
            "index": m.index,
            "folder": m.folder_path,
            "keys_file": _relative(self.keys_file, root),
            "secret": self.secret_name or m.secret_name,
            "vault_name": m.vault_name,
            "environment": m.environment,
            "key_name": m.key_name,
            "profile": m.profile,
            "outcome": str(self.outcome) if self.outcome else None,
            "ok": self.ok,
            "reason": self.reason,
            "drift": str(self.drift) if self.drift else None,
            "backup": _relative(self.backup, root),
            "vault_value": self.vault_key.redacted(salt) if self.vault_key else None,
            "local_value": self.local_key.redacted(salt) if self.local_key else None,
            "vault_public_key": public_fingerprint(self.vault_key) if self.vault_key else None,
            "local_public_key": public_fingerprint(self.local_key) if self.local_key else None,
            "decryption": self._decryption_dict(root),
        }

    def _decryption_dict(self, root: Path) -> dict[str, Any] | None:
        if self.decryption_ok is None:
            return None
        return {
            "ok": self.decryption_ok,
            "reason": self.decryption_error or "",
            "files": [
                {
                    "path": _relative(check.path, root),
                    "ok": check.ok,
                    "checked": check.checked,
                    "failed": list(check.failed),
                    "key_matches": check.key_matches,
                    "reason": check.reason,
                }
                for check in self.decryption or []
            ],
        }


@dataclass
class SyncReport:
    """Every mapping's result, in config order.

    Attributes:
        results: One per mapping, in config order.
        options: The options the run used.
        provider: The backend's name.
        elapsed: Seconds the run took (config loading excluded).
        interrupted: Ctrl-C ended the run early; the mappings it cut short are errors
            that say so, and nothing was written for them.
        git: What was done to keep the keys files and backups out of git, and which
            keys files git already tracks.
    """

    results: list[MappingResult]
    options: SyncOptions
    provider: str = ""
    elapsed: float = 0.0
    interrupted: bool = False
    git: GitProtection = field(default_factory=GitProtection)

    def counts(self) -> dict[str, int]:
        """How many mappings ended with each outcome, plus failed decryption checks."""
        counts = {str(outcome): 0 for outcome in Outcome}
        for result in self.results:
            if result.outcome is not None:
                counts[str(result.outcome)] += 1
        counts["decryption_failed"] = sum(1 for r in self.results if r.decryption_ok is False)
        return counts

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C (as shells report SIGINT); 1 when any mapping errored, drifted
        or failed its decryption check, or (with ``ci``) git tracks a keys file; else 0."""
        if self.interrupted:
            return 130
        if self.options.ci and self.git.tracked:
            return 1
        return 0 if all(result.ok for result in self.results) else 1


ProgressCallback = Callable[[str, int, int], None]
ConfirmCallback = Callable[[MappingResult], bool]


def run_sync(
    vaults: VaultSet,
    mappings: Sequence[SyncMapping],
    options: SyncOptions,
    *,
    confirm: ConfirmCallback | None = None,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """Sync ``mappings`` (already selected, in config order) and return the report.

    Args:
        vaults: The run's session (``envdrift.session.open_vaults``): its configuration
            (root, keys file name), backends and verifiers; the caller closes it.
        mappings: The mappings to sync (``vaults.config.select``).
        options: The mode of the run.
        confirm: Asked, in config order, whether to overwrite each mismatching key.
            ``None`` means nobody can answer: a mismatch is then an error.
        progress: Told ``(phase, done, total)`` as the run advances.

    Ctrl-C (``KeyboardInterrupt``) ends the run early: retry waits end at once, no new
    vault call or write starts, writes already running finish (each is atomic), and the
    report comes back with ``interrupted`` set.

    Raises:
        ConfigError: a backend refused its configuration (raised before any write).
    """
    started = time.monotonic()
    config = vaults.config
    notify = progress or (lambda phase, done, total: None)
    git = GitProtection()
    results = [MappingResult(mapping) for mapping in mappings]
    real_paths = _plan(config, results, vaults, options)
    phase = "fetching"
    try:
        _fetch(results, vaults, options.jobs, notify)
        for result in results:
            # Ephemeral keys are used in memory only: never compared with or written to
            # .env.keys (the decryption check below still proves them).
            if result.mapping.ephemeral and result.pending and result.vault_key is not None:
                result.outcome = Outcome.EPHEMERAL
        with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
            groups = _groups(results, real_paths)
            snapshots = _compare(groups, pool, notify)
            _resolve(results, options, confirm)
            if options.check_decryption:
                # Before writing: a vault key that cannot decrypt its folder's files must
                # not replace (or join) what is there.
                phase = "checking"
                _check(results, config.env_keys_filename, vaults, pool, notify)
                if not options.verify:
                    _hold_failing_keys(results)
            if not options.verify:
                phase = "writing"
                where = _Where(
                    config.root,
                    options.allow_outside_root or config.allow_outside_root,
                    backup_stamp(),
                    options.keep_backups,
                )
                _write(groups, snapshots, where, pool, notify)
                git = _protect(results)
    except KeyboardInterrupt:
        vaults.deadline.cancel()
        for result in results:
            if result.pending:
                result.fail(f"interrupted (Ctrl-C) while {phase}; nothing was written for it")
            elif phase == "checking" and result.decryption_ok is None and result.vault_key:
                result.decryption_error = "interrupted (Ctrl-C) before it was checked"
        return SyncReport(
            results, options, vaults.provider, time.monotonic() - started, interrupted=True
        )
    for result in results:
        if result.outcome is None:  # pragma: no cover - every path above settles it
            result.fail("internal error: the mapping was never settled")
    return SyncReport(results, options, vaults.provider, time.monotonic() - started, git=git)


def _protect(results: list[MappingResult]) -> GitProtection:
    """Keep every keys file (and the backups just written) out of git; find tracked ones.

    What ``update_keys_file`` does for one file, done here for all of them at once: a
    few git calls per work tree rather than per mapping, and a tracked keys file is
    reported even when this run left it unchanged.
    """
    paths: list[Path] = []
    for result in results:
        if result.keys_file is not None and os.path.lexists(result.keys_file):
            paths.append(result.keys_file)
        if result.backup is not None:
            paths.append(result.backup)
    return protect(dict.fromkeys(paths))


# -- 1. plan ---------------------------------------------------------------------------


def _plan(
    config: Config, results: list[MappingResult], vaults: VaultSet, options: SyncOptions
) -> dict[int, str]:
    """Check folders and backends; return each usable mapping's real keys-file path."""
    root = os.path.realpath(config.root)
    allow = options.allow_outside_root or config.allow_outside_root
    name = config.env_keys_filename
    writers: dict[tuple[str, str], list[MappingResult]] = {}
    real_paths: dict[int, str] = {}
    for result in results:
        mapping = result.mapping
        vault, result.secret_name = vaults.for_mapping(mapping)  # ConfigError: whole run
        result.vault = vault.describe()
        real_folder, problem = _check_folder(config, mapping, root, allow)
        if problem:
            result.fail(problem)
            continue
        result.keys_file = mapping.folder / name
        # Two mappings share a file when their real paths agree (symlinks included).
        if os.path.islink(result.keys_file):
            real = os.path.realpath(result.keys_file)
            if not allow and os.path.commonpath([real, root]) != root:
                result.fail(
                    f"{result.keys_file} is a symlink to {real}, outside the project root "
                    f"{root} ({config.label} {mapping.origin}); nothing is written there "
                    "unless allow_outside_root is set"
                )
                continue
        else:
            real = os.path.join(real_folder, name)
        real_paths[mapping.index] = real
        writers.setdefault((real, mapping.key_name), []).append(result)
    for same in writers.values():
        if len(same) > 1:
            numbers = ", ".join(str(r.mapping.index) for r in same)
            for result in same:
                result.fail(
                    f"mappings {numbers} all write {result.mapping.key_name} to the same "
                    f"keys file; give each its own environment or folder"
                )
    return real_paths


def _check_folder(config: Config, mapping: SyncMapping, root: str, allow: bool) -> tuple[str, str]:
    """Return ``(real folder, problem)``; the problem is empty when the folder is usable."""
    shown = f"folder_path {mapping.folder_path!r}"
    where = f"{config.label} {mapping.origin}"
    if not mapping.folder.exists():
        return "", f"{shown} does not exist ({where}); create it or fix the path"
    if not mapping.folder.is_dir():
        return "", f"{shown} is not a directory ({where})"
    real = os.path.realpath(mapping.folder)
    if not allow and os.path.commonpath([real, root]) != root:
        switch = (
            "pass --allow-outside-root"
            if config.kind == "pair.txt"
            else f"set [{config.key_prefix}vault.sync] allow_outside_root = true"
        )
        return "", (
            f"{shown} leads outside the project root {root} ({where}); {switch} if that is intended"
        )
    return real, ""


# -- 2. fetch --------------------------------------------------------------------------


def _fetch(
    results: list[MappingResult], vaults: VaultSet, jobs: int, notify: ProgressCallback
) -> None:
    by_vault: dict[int, tuple[Vault, list[MappingResult]]] = {}
    for result in results:
        if result.pending:
            vault, _ = vaults.for_mapping(result.mapping)
            by_vault.setdefault(id(vault), (vault, []))[1].append(result)
    total = sum(len(items) for _, items in by_vault.values())
    if not total:
        return
    notify("fetching", 0, total)
    done = 0
    groups = list(by_vault.values())
    shares = job_shares([len(items) for _, items in groups], jobs)

    def fetch(
        vault: Vault, items: list[MappingResult], share: int
    ) -> dict[str, Secret | EnvdriftError]:
        names = [item.secret_name for item in items]
        try:
            return vault.fetch_many(names, jobs=share)
        except EnvdriftError as exc:
            return dict.fromkeys(names, exc)
        except Exception as exc:
            # A plugin bug must not lose the other vaults' results; --debug shows it.
            if vaults.debug:
                raise
            return dict.fromkeys(names, vault.unexpected(exc))

    # More vaults than jobs: each fetches one secret at a time, and only `jobs` at once.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(len(groups), jobs))
    futures = {
        pool.submit(fetch, vault, items, share): items
        for (vault, items), share in zip(groups, shares, strict=True)
    }
    try:
        for future in concurrent.futures.as_completed(futures):
            items = futures[future]
            answers = future.result()
            for item in items:
                _take(item, answers.get(item.secret_name))
            done += len(items)
            notify("fetching", done, total)
    except BaseException:
        vaults.deadline.cancel()  # retry waits end now; no new vault call starts
        # Reads in flight are abandoned, not awaited: a hung vault must not hold up
        # Ctrl-C (nothing is written for them; the CLI exits without joining them).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def job_shares(sizes: list[int], jobs: int) -> list[int]:
    """Split ``jobs`` between vaults holding ``sizes`` secrets: in proportion, 1 at least.

    The shares add up to at most ``jobs`` (when there are more vaults than jobs, each gets
    one and only ``jobs`` run at once), and none exceeds its vault's secrets.
    """
    shares = [1] * len(sizes)
    for _ in range(jobs - len(sizes)):
        neediest = max(range(len(sizes)), key=lambda i: sizes[i] / shares[i])
        if sizes[neediest] <= shares[neediest]:
            break
        shares[neediest] += 1
    return shares


def _take(result: MappingResult, answer: Secret | EnvdriftError | None) -> None:
    mapping = result.mapping
    if answer is None:
        result.fail(f"{result.vault} returned nothing for secret {result.secret_name!r}")
    elif isinstance(answer, NotFoundError):
        # An error, also under --verify (nothing to compare); `drift` says which kind,
        # for `lock`'s advice and JSON readers.
        result.fail(str(answer))
        result.drift = Drift.MISSING_SECRET
    elif isinstance(answer, EnvdriftError):
        result.fail(str(answer))
    else:
        source = f"secret {result.secret_name!r} in {result.vault}"
        try:
            result.vault_key = normalize_private_key(answer, mapping.environment, source=source)
        except FormatError as exc:
            result.fail(str(exc))


# -- 3. compare ------------------------------------------------------------------------


@dataclass
class _Group:
    """The mappings that share one keys file: read once, written once."""

    path: Path
    results: list[MappingResult] = field(default_factory=list)


def _groups(results: Iterable[MappingResult], real_paths: dict[int, str]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for result in results:
        if result.keys_file is not None and result.vault_key is not None and result.pending:
            real = real_paths[result.mapping.index]
            groups.setdefault(real, _Group(result.keys_file)).results.append(result)
    return list(groups.values())


def _compare(
    groups: list[_Group], pool: concurrent.futures.Executor, notify: ProgressCallback
) -> dict[str, bytes]:
    """Read each keys file; settle unchanged keys; return each file's bytes as read."""
    snapshots: dict[str, bytes] = {}

    def compare(group: _Group) -> None:
        try:
            keys = KeysFile.read(group.path)
        except FormatError as exc:
            for result in group.results:
                result.fail(str(exc))
            return
        snapshots[str(group.path)] = keys.render()
        for result in group.results:
            local = keys.get(result.mapping.key_name)
            result.local_key = local
            if local is not None and _same_key(local, result.vault_key):
                result.outcome = Outcome.UNCHANGED

    _each(pool, groups, compare, "reading", notify)
    return snapshots


def _same_key(local: Secret, vault: Secret | None) -> bool:
    # dotenvx reads hex in either case; a key that differs only in case is the same key.
    return vault is not None and Secret(local.reveal().strip().lower()) == vault


# -- 4. resolve ------------------------------------------------------------------------


def _resolve(
    results: list[MappingResult], options: SyncOptions, confirm: ConfirmCallback | None
) -> None:
    for result in results:
        if not result.pending:
            continue
        if result.local_key is None:
            if options.verify:
                result.outcome, result.drift = Outcome.DRIFT, Drift.MISSING_KEY
                result.reason = f"{result.mapping.key_name} is not in {result.keys_file}"
            continue  # created when written
        if options.verify:
            result.outcome, result.drift = Outcome.DRIFT, Drift.MISMATCH
            result.reason = f"the local {result.mapping.key_name} differs from the vault's"
        elif options.force:
            continue  # updated when written
        elif confirm is not None and not options.ci:
            if not confirm(result):
                result.outcome = Outcome.SKIPPED
                result.reason = "kept the local key, which differs from the vault's"
        else:
            result.fail(
                f"the local {result.mapping.key_name} differs from the vault's; "
                "run `envdrift sync --force` to overwrite it (a backup is kept)"
            )


# -- 5. write --------------------------------------------------------------------------


def _write(
    groups: list[_Group],
    snapshots: dict[str, bytes],
    where: _Where,
    pool: concurrent.futures.Executor,
    notify: ProgressCallback,
) -> None:
    """Write each group's keys file once, through ``update_keys_file``.

    Another envdrift may have written the file since it was read (another sync, an
    encrypt, a rotate). Under the writers' lock it is read again and this run's keys
    are applied to what is there now, so neither writer's update is lost: a key the
    other writer already set to the vault's value is unchanged, and a key it changed to
    something else fails that mapping rather than being overwritten blindly.
    """

    def write(group: _Group) -> None:
        todo = [r for r in group.results if r.pending]
        if not todo:
            return

        def edit(keys: KeysFile) -> list[MappingResult]:
            left = todo
            if keys.render() != snapshots.get(str(group.path)):
                left = _merge(group.path, keys, todo)
            for result in left:
                # The comment dotenvx writes above a key: the env file it belongs to.
                comment = f".env.{result.mapping.environment}".rstrip(".")
                if result.vault_key is not None:  # always: only fetched keys are grouped
                    keys.set(result.mapping.key_name, result.vault_key, comment=comment)
            return left

        try:
            update = update_keys_file(
                group.path,
                edit,
                root=where.root,
                allow_outside_root=where.allow_outside_root,
                backup_stamp=where.stamp,
                keep_backups=where.keep_backups,
                protect_git=False,  # done once for the whole run, by _protect
            )
        except (FormatError, OSError) as exc:
            reason = str(exc) if isinstance(exc, FormatError) else _os_reason(group.path, exc)
            for result in todo:
                if result.pending:
                    result.fail(reason)
            return
        for result in update.value:
            if result.local_key is None:
                result.outcome = Outcome.CREATED
            else:
                result.outcome, result.backup = Outcome.UPDATED, update.backup

    _each(pool, groups, write, "writing", notify)


@dataclass(frozen=True)
class _Where:
    """Where a run writes: the project root, whether links may leave it, backups."""

    root: Path
    allow_outside_root: bool
    stamp: str
    keep_backups: int


def _merge(path: Path, keys: KeysFile, todo: list[MappingResult]) -> list[MappingResult]:
    """Settle ``todo`` against a keys file another writer changed; return what to write."""
    left = []
    for result in todo:
        now = keys.get(result.mapping.key_name)
        if now is not None and _same_key(now, result.vault_key):
            result.outcome = Outcome.UNCHANGED  # the other writer put the vault's key there
        elif now != result.local_key:
            result.fail(
                f"{path} changed on disk during the run ({result.mapping.key_name} is no "
                "longer what it was); nothing was written for it, run envdrift sync again"
            )
        else:
            left.append(result)
    return left


def _os_reason(path: Path, exc: OSError) -> str:
    what = exc.strerror or type(exc).__name__
    return f"cannot write {path}: {what}; nothing was changed in that file"


# -- 6. check decryption ---------------------------------------------------------------


def _check(
    results: list[MappingResult],
    keys_filename: str,
    vaults: VaultSet,
    pool: concurrent.futures.Executor,
    notify: ProgressCallback,
) -> None:
    todo = [r for r in results if r.vault_key is not None and r.keys_file is not None]

    def check(result: MappingResult) -> None:
        key = result.vault_key
        if key is None:  # pragma: no cover - filtered out above
            return
        environment = result.mapping.environment
        files, unread = _env_files(result.mapping.folder, keys_filename)
        checks = []
        for path, text in files:
            # The verifiers decide which files are this environment's, in their format.
            answer = vaults.verify_decryption(path, text, key, environment=environment)
            if answer is not None:
                checks.append(answer)
        if checks:
            result.decryption = checks
        elif unread:
            result.decryption_error = "; ".join(unread) + "; nothing could be checked"
        else:
            result.decryption_error = (
                f"no env file in {result.mapping.folder_path!r} is encrypted for environment "
                f"{environment!r} (none that an installed verifier recognises); nothing to check"
            )

    _each(pool, todo, check, "checking", notify)


def _hold_failing_keys(results: list[MappingResult]) -> None:
    """Fail, unwritten, each pending mapping whose vault key failed its decryption check."""
    for result in results:
        if result.pending and result.decryption is not None and not result.decryption_ok:
            kept = "the local key was kept" if result.local_key else "nothing was written"
            failed = ", ".join(c.path.name for c in result.decryption if not c.ok)
            result.fail(
                f"the vault's {result.mapping.key_name} does not decrypt {failed}; {kept}. "
                "If the local key is the right one, store it with `envdrift vault-push --force`"
            )


def _env_files(folder: Path, keys_filename: str) -> tuple[list[tuple[Path, str]], list[str]]:
    """The env files in ``folder`` (``folder_env_files``), read in memory, and why each
    one that could not be read was skipped. Which of them belong to an environment is
    for the verifiers to say."""
    found = []
    unread: list[str] = []
    try:
        paths = folder_env_files(folder, keys_filename)
    except FormatError as exc:
        return [], [str(exc)]  # the folder cannot be listed: say so
    for path in paths:
        try:
            found.append((path, read_env_text(path)))
        except FileNotFoundError:
            continue  # gone meanwhile
        except FormatError as exc:
            unread.append(str(exc))  # too large, unreadable or not text: say so
    return found, unread


# -- helpers ---------------------------------------------------------------------------


def _each(
    pool: concurrent.futures.Executor,
    items: Sequence[Any],
    work: Callable[[Any], None],
    phase: str,
    notify: ProgressCallback,
) -> None:
    """Run ``work`` on every item in ``pool``, reporting progress; re-raise the first bug."""
    if not items:
        return
    notify(phase, 0, len(items))
    futures = [pool.submit(work, item) for item in items]
    try:
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            future.result()
            notify(phase, done, len(items))
    except BaseException:
        _cancel(futures)
        raise


def _cancel(futures: Iterable[concurrent.futures.Future[Any]]) -> None:
    # On Ctrl-C (or a bug), start nothing new: work already running finishes (each
    # write is atomic), queued work never starts.
    for future in futures:
        future.cancel()


def _relative(path: Path | None, root: Path) -> str | None:
    return None if path is None else relative_path(path, root)
