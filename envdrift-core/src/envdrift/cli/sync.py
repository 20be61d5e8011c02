"""``envdrift sync``: fetch every mapping's private key from the vault into its ``.env.keys``.

Parses flags, loads the configuration, asks before overwriting (on a terminal only) and
prints; the work is ``envdrift.sync.run_sync``. Heavy modules (pydantic, plugins) are
imported inside the command so ``envdrift sync --help`` stays cheap.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING, Any

import click

from envdrift._suggest import counted
from envdrift.cli._options import (
    ci_option,
    format_option,
    jobs_option,
    profile_option,
    registry_from,
    vault_options,
)
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from collections.abc import Iterator

    from envdrift.cli._vault_flags import VaultFlags
    from envdrift.config import Config, SyncMapping
    from envdrift.secrets import Secret
    from envdrift.sync import ConfirmCallback, MappingResult, SyncOptions, SyncReport


@click.command()
@vault_options
@profile_option("sync")
@click.option("--verify", is_flag=True, help="Write nothing; exit 1 when any key has drifted.")
@click.option("--force", is_flag=True, help="Overwrite local keys that differ (a backup is kept).")
@ci_option
@click.option(
    "--check-decryption",
    is_flag=True,
    help="Prove, in memory, that each vault key decrypts its folder's encrypted env files; "
    "a key that does not is not written.",
)
@jobs_option("Vault calls in flight")
@click.option(
    "--keep-backups",
    type=click.IntRange(0, 1000),
    default=5,
    show_default=True,
    metavar="N",
    help="Backups kept per .env.keys when --force replaces a key (oldest removed; 0: none).",
)
@click.option(
    "--allow-outside-root",
    is_flag=True,
    help="Allow folder_path outside the config file's folder.",
)
@format_option("json: one document on stdout (docs/sync-json.md).")
@click.pass_context
def sync(
    ctx: click.Context,
    vault_flags: VaultFlags,
    profile: str | None,
    verify: bool,
    force: bool,
    ci: bool,
    check_decryption: bool,
    jobs: int | None,
    keep_backups: int,
    allow_outside_root: bool,
    output_format: str,
) -> None:
    """Fetch each mapping's private key from the vault into its folder's .env.keys.

    Exit status: 0 when every mapping is in sync, 1 when any mapping failed or (with
    --verify) drifted, 2 for configuration and usage errors, 130 after Ctrl-C (the
    summary then shows what was done and what was not).
    """
    if verify and force:
        raise click.UsageError("--verify and --force exclude each other")
    from pathlib import Path

    from envdrift.config import load_config
    from envdrift.sync import DEFAULT_JOBS, SyncOptions

    out = Output(json_mode=output_format == "json")
    salt = os.urandom(16)  # fingerprints compare within this run only
    config: Config | None = None
    warnings: list[str] = []
    progress = Progress(out, enabled=Output.stderr_is_tty())

    def failed() -> dict[str, Any]:
        return failed_body(config, vault_flags.provider, profile, warnings)

    # Leaving the block closes the status line first (also on Ctrl-C, before the
    # "interrupted" line), then prints the JSON error document.
    with out.json_errors("sync", failed), contextlib.closing(progress):
        config = load_config(vault_flags.config_file, Path.cwd())
        warnings.extend(config.warnings)
        mappings = config.select(profile)
        options = SyncOptions(
            verify=verify,
            force=force,
            ci=ci,
            check_decryption=check_decryption,
            jobs=jobs or config.jobs or DEFAULT_JOBS,
            allow_outside_root=allow_outside_root,
            keep_backups=keep_backups,
        )
        report = sync_keys(
            ctx, out, progress, salt, vault_flags, config, mappings, options, warnings
        )
    notes, git_warnings = report.git.messages()
    warnings.extend(git_warnings)
    if out.json_mode:
        out.document(
            "sync",
            _body(config, report, profile, warnings, salt),
            exit_code=report.exit_code,
        )
    else:
        _print_text(out, config, report, salt)
    out.notes(notes, git_warnings)
    ctx.exit(report.exit_code)


def sync_keys(
    ctx: click.Context,
    out: Output,
    progress: Progress,
    salt: bytes,
    vault_flags: VaultFlags,
    config: Config,
    mappings: list[SyncMapping],
    options: SyncOptions,
    warnings: list[str],
) -> SyncReport:
    """The sync step of ``sync`` and ``pull``: open the vaults (keeping their warnings)
    and run the engine, asking on a terminal before a differing key is overwritten
    (never with --ci, --verify or --force)."""
    from envdrift.sync import run_sync

    with vault_flags.open_vaults(config, registry_from(ctx), ctx) as vaults:
        warnings.extend(vaults.warnings)
        interactive = not (options.ci or options.verify or options.force)
        confirm = _confirmer(out, progress, salt) if interactive and Output.stdin_is_tty() else None
        return run_sync(vaults, mappings, options, confirm=confirm, progress=progress.update)


def _confirmer(out: Output, progress: Progress, salt: bytes) -> ConfirmCallback:
    def confirm(result: MappingResult) -> bool:
        mapping = result.mapping
        with progress.paused():
            return out.confirm(
                f"{mapping.folder_path}: {mapping.key_name} in {result.keys_file} differs "
                f"from secret {result.secret_name!r} ({_fingerprints(result, salt)}). "
                "Overwrite it with the vault's key (a backup is kept)?"
            )

    return confirm


def _fingerprints(result: MappingResult, salt: bytes) -> str:
    """``local key 03a1b2c3d4e5…, vault key 02f0e1d2c3b4…``: each key's public-key prefix.

    The prefix is public (the env file commits the whole public key) and the same in
    every run and checkout, so teammates can compare theirs; a value that is not a
    usable key falls back to this run's salted fingerprint.
    """
    local, vault = (_fingerprint(key, salt) for key in (result.local_key, result.vault_key))
    return f"local {local}, vault {vault}"


def _fingerprint(key: Secret | None, salt: bytes) -> str:
    from envdrift.keyvalue import public_fingerprint

    if key is None:
        return "none"
    prefix = public_fingerprint(key)
    return f"key {prefix}…" if prefix else key.redacted(salt)


# -- text ------------------------------------------------------------------------------


def _print_text(out: Output, config: Config, report: SyncReport, salt: bytes) -> None:
    from envdrift.sync import Drift, Outcome

    rows = []
    for result in report.results:
        mapping = result.mapping
        reason = result.reason
        differs = result.drift is Drift.MISMATCH or (
            result.outcome in {Outcome.ERROR, Outcome.SKIPPED}
            and result.local_key is not None
            and result.vault_key is not None
            and result.local_key != result.vault_key
        )
        if differs:
            reason = f"{reason} ({_fingerprints(result, salt)})"
        notes = [reason] if reason else []
        if result.backup is not None:
            notes.append(f"backup {result.backup.name}")
        notes.extend(_decryption_notes(result))
        rows.append(
            [
                mapping.folder_path,
                result.secret_name or mapping.secret_name,
                mapping.environment or "-",
                str(result.outcome),
                "; ".join(notes),
            ]
        )
    out.table(["FOLDER", "SECRET", "ENVIRONMENT", "OUTCOME", "REASON"], rows)
    out.line()
    out.line(sync_summary(report))


def _decryption_notes(result: MappingResult) -> list[str]:
    if result.decryption_error:
        return [f"decryption not checked: {result.decryption_error}"]
    notes = []
    for check in result.decryption or []:
        if check.ok:
            notes.append(f"decrypts {check.path.name} ({check.checked} values)")
        elif check.reason:
            notes.append(f"does not decrypt {check.path.name}: {check.reason}")
        else:
            notes.append(f"does not decrypt {check.path.name} ({', '.join(check.failed)})")
    return notes


def sync_summary(report: SyncReport) -> str:
    """The summary line under sync's table (pull prints it too)."""
    counts = report.counts()
    total = len(report.results)
    parts = [
        f"{counts[name]} {name}"
        for name in ("created", "updated", "unchanged", "ephemeral", "skipped", "drift", "error")
        if counts[name]
    ]
    line = f"{counted(total, 'mapping')}: {', '.join(parts) or 'nothing to do'}"
    if counts["decryption_failed"]:
        line += f"; {counts['decryption_failed']} failed the decryption check"
    if report.options.verify:
        checked = total - counts["error"]
        if counts["drift"]:
            line += "; drift found"
        elif not counts["error"]:
            line += "; no drift"
        elif checked:  # an error is not "no drift": those mappings were not compared
            line += f"; no drift in the {checked} checked"
        else:
            line += "; nothing could be checked for drift"
    if report.interrupted:
        line += "; interrupted (Ctrl-C)"
    return f"{line} ({report.elapsed:.2f} s)"


# -- JSON (docs/sync-json.md) ----------------------------------------------------------


def _body(
    config: Config, report: SyncReport, profile: str | None, warnings: list[str], salt: bytes
) -> dict[str, Any]:
    counts = report.counts()
    options = report.options
    return {
        "config": config.label,
        "provider": report.provider,
        "profile": profile,
        "mode": {
            "verify": options.verify,
            "force": options.force,
            "ci": options.ci,
            "check_decryption": options.check_decryption,
            "jobs": options.jobs,
        },
        "mappings": [result.as_dict(salt, config.root) for result in report.results],
        "summary": {"total": len(report.results), **counts},
        "warnings": warnings,
    }


def failed_body(
    config: Config | None, provider: str | None, profile: str | None, warnings: list[str]
) -> dict[str, Any]:
    """The JSON body of a sync, pull or lock that stopped before any mapping ran."""
    return {
        "config": config.label if config else None,
        "provider": provider or (config.provider if config else None),
        "profile": profile,
        "mode": None,
        "mappings": [],
        "summary": None,
        "warnings": warnings,
    }


# -- progress --------------------------------------------------------------------------


class Progress:
    """A one-line status on stderr, drawn only on a terminal and only once a run is slow."""

    DELAY = 0.5  # seconds before anything is drawn: quick runs stay quiet
    INTERVAL = 0.1

    def __init__(self, out: Output, *, enabled: bool, command: str = "sync") -> None:
        self._out = out
        self._command = command
        self._lock = threading.Lock()
        self._text = "starting"
        self._shown = False
        self._paused = False
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if enabled:
            self._thread = threading.Thread(target=self._run, name="envdrift-progress", daemon=True)
            self._thread.start()

    def update(self, phase: str, done: int, total: int) -> None:
        with self._lock:
            self._text = f"{phase} {done}/{total}"

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            elapsed = time.monotonic() - self._started
            if elapsed < self.DELAY:
                continue
            with self._lock:
                if not self._paused:
                    self._out.status(f"envdrift {self._command}: {self._text} ({elapsed:.1f} s)")
                    self._shown = True

    def _clear(self) -> None:
        if self._shown:
            self._out.clear_status()
            self._shown = False

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Keep the status line away while a question is on screen."""
        with self._lock:
            self._paused = True
            self._clear()
        try:
            yield
        finally:
            with self._lock:
                self._paused = False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._clear()
