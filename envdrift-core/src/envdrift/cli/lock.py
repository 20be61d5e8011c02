"""``envdrift lock``: check every local key against the vault, then encrypt every mapped
env file to it (``envdrift.lock``); ``--check`` only reports plaintext."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from envdrift._suggest import counted
from envdrift.cli._options import (
    format_option,
    jobs_option,
    profile_option,
    registry_from,
    vault_options,
)
from envdrift.cli._output import Output
from envdrift.cli.sync import failed_body

if TYPE_CHECKING:
    from envdrift.cli._vault_flags import VaultFlags
    from envdrift.config import Config
    from envdrift.lock import MappingLock
    from envdrift.plugins import PluginRegistry


@click.command()
@vault_options
@profile_option("lock")
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing, ask no vault; exit 1 when any mapped env file holds plaintext.",
)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    help="Accepted for envdrift 11.x scripts: lock never asks. It never overrides the "
    "key check either: any mismatch still stops it before anything is encrypted.",
)
@click.option(
    "--verify-vault",
    "verify_vault",
    is_flag=True,
    help="Accepted for envdrift 11.x scripts: the keys are always verified first.",
)
@jobs_option("Vault calls (and files encrypted)")
@format_option("json: one document on stdout.")
@click.pass_context
def lock(
    ctx: click.Context,
    vault_flags: VaultFlags,
    profile: str | None,
    check: bool,
    force: bool,
    verify_vault: bool,
    jobs: int | None,
    output_format: str,
) -> None:
    """Check every local key against the vault, then encrypt every mapped env file.

    First, as `envdrift sync --verify` does, each mapping's key in .env.keys is
    compared with the vault's (an ephemeral mapping uses the vault's key). Any
    missing or differing key, vault error, or file already encrypted to another key
    stops everything before a single file is encrypted, even with --force, naming
    the mappings and the command that fixes each. Then every mapped env file (the
    mapping's env_file, else the folder's files of its environment) is encrypted to
    the vault's key.

    With --check, nothing is changed and no vault is asked: exit 1 when any mapped
    env file holds plaintext values (for CI and pre-commit).

    Exit status: 0 when every file is encrypted, 1 when the check stopped the lock, a
    file failed or (--check) holds plaintext, 2 for configuration and usage errors.
    """
    del verify_vault  # always on
    from pathlib import Path

    from envdrift.config import load_config
    from envdrift.lock import check_plaintext, encrypt_locked, preflight
    from envdrift.sync import DEFAULT_JOBS, SyncOptions, run_sync

    out = Output(json_mode=output_format == "json")
    registry = registry_from(ctx)
    config: Config | None = None
    warnings: list[str] = []

    def no_lock() -> dict[str, Any]:
        return failed_body(config, vault_flags.provider, profile, warnings)

    with out.json_errors("lock", no_lock):
        config = load_config(vault_flags.config_file, Path.cwd())
        warnings.extend(config.warnings)
        config.refuse_file_commands("lock")
        mappings = config.select(profile)
        workers = jobs or config.jobs or DEFAULT_JOBS
        if check:
            locks = check_plaintext(mappings, config.env_keys_filename, jobs=workers)
        else:
            options = SyncOptions(verify=True, ci=True, jobs=workers)
            with vault_flags.open_vaults(config, registry, ctx) as vaults:
                report = run_sync(vaults, mappings, options)
            if report.interrupted:
                raise KeyboardInterrupt
            locks = preflight(report, config.env_keys_filename)
            if not any(lock.problem for lock in locks):
                encrypt_locked(locks, jobs=workers)
    stopped = not check and any(lock.problem for lock in locks)
    failed = any(f.outcome in {"error", "plaintext"} for lock in locks for f in lock.files)
    code = 1 if stopped or failed else 0
    fixes = _fixes(locks, config, registry, vault_flags) if stopped else {}
    if out.json_mode:
        body = _body(config, locks, fixes, check, force, profile, warnings, stopped)
        out.document("lock", body, exit_code=code)
    else:
        _print_text(out, locks, fixes, check=check, stopped=stopped)
    ctx.exit(code)


def _fixes(
    locks: list[MappingLock], config: Config, registry: PluginRegistry, flags: VaultFlags
) -> dict[int, str]:
    """The command that clears each lock's problem, by ``id`` of the lock with one."""
    from pathlib import Path

    from envdrift.targets import discoverable_from

    discoverable = discoverable_from(config, Path.cwd())
    return {
        id(lock): _fix(lock, config, registry, flags, discoverable)
        for lock in locks
        if lock.problem
    }


def _fix(
    lock: MappingLock,
    config: Config,
    registry: PluginRegistry,
    flags: VaultFlags,
    discoverable: bool,
) -> str:
    """The command that clears ``lock``'s problem."""
    import shlex

    from envdrift.targets import Target

    target = Target(config, lock.mapping, True, discoverable)
    sync = target.sync_command(registry, provider=flags.provider, flags=flags.flags)
    secret = lock.sync.secret_name if lock.sync is not None else lock.mapping.secret_name
    push = target.push_command(
        secret or lock.mapping.secret_name, registry, provider=flags.provider, flags=flags.flags
    )
    if lock.kind == "missing_key":
        return sync
    if lock.kind == "mismatch":
        return f"{sync} (take the vault's key) or {push} (make the local key the team's)"
    if lock.kind == "missing_secret":
        return push
    if lock.kind == "file":
        broken = next((f.path for f in lock.files if f.outcome == "error"), None)
        if broken is not None and broken.exists():
            return f"envdrift decrypt {shlex.quote(str(broken))} --verify-vault --repair"
        return "fix env_file or the folder, then run envdrift lock again"
    return "fix the problem above, then run envdrift lock again"


def _files_cell(lock: MappingLock) -> str:
    if not lock.files:
        return "-"
    counts: dict[str, int] = {}
    for file in lock.files:
        counts[file.outcome] = counts.get(file.outcome, 0) + 1
    return ", ".join(f"{count} {name}" for name, count in counts.items())


def _print_text(
    out: Output, locks: list[MappingLock], fixes: dict[int, str], *, check: bool, stopped: bool
) -> None:
    if stopped:
        problems = [lock for lock in locks if lock.problem]
        out.error(
            f"lock stopped before encrypting anything: {counted(len(problems), 'mapping')} "
            "not in line with the vault"
        )
        for lock in problems:
            out.info(f"  {lock.mapping.folder_path} ({lock.mapping.origin}): {lock.problem}")
            out.info(f"    fix: {fixes[id(lock)]}")
        return
    rows = []
    for lock in locks:
        mapping = lock.mapping
        notes = []
        for file in lock.files:
            if file.outcome == "plaintext":
                notes.append(f"{file.path.name}: plaintext {', '.join(file.names)}")
            elif file.outcome == "error":
                notes.append(f"{file.path.name}: {file.reason}")
        key = "-" if lock.sync is None else str(lock.sync.outcome)
        cells = [mapping.folder_path, mapping.environment or "-", key, _files_cell(lock)]
        rows.append([*cells, "; ".join(notes)])
    out.table(["FOLDER", "ENVIRONMENT", "KEY", "FILES", "NOTES"], rows)
    out.line()
    files = [f for lock in locks for f in lock.files]
    if check:
        dirty = [f for f in files if f.outcome in {"plaintext", "error"}]
        out.line(
            f"{len(files)} env files: {len(dirty)} hold plaintext"
            if dirty
            else f"{len(files)} env files: all encrypted"
        )
    else:
        done = sum(1 for f in files if f.outcome == "encrypted")
        failed = sum(1 for f in files if f.outcome == "error")
        line = f"{len(files)} env files: {done} encrypted, {len(files) - done - failed} unchanged"
        out.line(line + (f", {failed} failed" if failed else ""))


def _body(
    config: Config,
    locks: list[MappingLock],
    fixes: dict[int, str],
    check: bool,
    force: bool,
    profile: str | None,
    warnings: list[str],
    stopped: bool,
) -> dict[str, Any]:
    files = [f for lock in locks for f in lock.files]
    return {
        "config": config.label,
        "profile": profile,
        "mode": {"check": check, "force": force},
        "stopped": stopped,
        "mappings": [
            {
                "index": lock.mapping.index,
                "folder": lock.mapping.folder_path,
                "secret": lock.mapping.secret_name,
                "environment": lock.mapping.environment,
                "key": str(lock.sync.outcome) if lock.sync is not None else None,
                "ok": not lock.problem
                and all(f.outcome not in {"error", "plaintext"} for f in lock.files),
                "problem": lock.problem or None,
                "fix": fixes.get(id(lock)),
                "files": [f.as_dict(config.root) for f in lock.files],
            }
            for lock in locks
        ],
        "summary": {
            "total": len(locks),
            "stopped_by": sum(1 for lock in locks if lock.problem),
            "files": len(files),
            **{
                name: sum(1 for f in files if f.outcome == name)
                for name in ("encrypted", "unchanged", "clean", "plaintext", "error")
            },
        },
        "warnings": warnings,
    }
