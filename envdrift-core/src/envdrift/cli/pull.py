"""``envdrift pull``: sync every mapping's key (the ``sync`` engine, same modes and exit
codes), then decrypt every mapped env file in place (``envdrift.pull``)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

import click

from envdrift._suggest import counted
from envdrift.cli._options import (
    ci_option,
    format_option,
    jobs_option,
    profile_option,
    vault_options,
)
from envdrift.cli._output import Output
from envdrift.cli.sync import Progress, failed_body, sync_keys, sync_summary

if TYPE_CHECKING:
    from envdrift.cli._vault_flags import VaultFlags
    from envdrift.config import Config
    from envdrift.pull import MappingPull
    from envdrift.sync import SyncReport


@click.command()
@vault_options
@profile_option("pull")
@click.option(
    "-f", "--force", is_flag=True, help="Overwrite local keys that differ (a backup is kept)."
)
@ci_option
@jobs_option("Vault calls (and files decrypted)")
@format_option("json: one document on stdout (docs/sync-json.md, with a decrypt step).")
@click.pass_context
def pull(
    ctx: click.Context,
    vault_flags: VaultFlags,
    profile: str | None,
    force: bool,
    ci: bool,
    jobs: int | None,
    output_format: str,
) -> None:
    """Sync every mapping's key, then decrypt its env files in place.

    The first step is `envdrift sync` (same flags, prompts and outcomes; ephemeral
    mappings write no key). Then every env file of each mapping whose sync succeeded
    (its env_file, else the folder's files of its environment) is decrypted in place
    with the vault's key, concurrently. A mapping whose sync failed is not decrypted.

    Exit status: 0 when both steps succeed for every mapping, 1 when any step failed,
    2 for configuration and usage errors, 130 after Ctrl-C.
    """
    from pathlib import Path

    from envdrift.config import load_config
    from envdrift.pull import decrypt_mapped
    from envdrift.sync import DEFAULT_JOBS, SyncOptions

    out = Output(json_mode=output_format == "json")
    salt = os.urandom(16)
    config: Config | None = None
    warnings: list[str] = []
    progress = Progress(out, enabled=Output.stderr_is_tty(), command="pull")

    def failed() -> dict[str, Any]:
        return failed_body(config, vault_flags.provider, profile, warnings)

    with out.json_errors("pull", failed), contextlib.closing(progress):
        config = load_config(vault_flags.config_file, Path.cwd())
        warnings.extend(config.warnings)
        config.refuse_file_commands("pull")
        mappings = config.select(profile)
        options = SyncOptions(force=force, ci=ci, jobs=jobs or config.jobs or DEFAULT_JOBS)
        report = sync_keys(
            ctx, out, progress, salt, vault_flags, config, mappings, options, warnings
        )
        pulls = decrypt_mapped(
            report, config.env_keys_filename, jobs=options.jobs, progress=progress.update
        )
    code = _exit_code(report, pulls)
    notes, git_warnings = report.git.messages()
    warnings.extend(git_warnings)
    reminder = _plaintext_reminder(pulls)
    if reminder:
        notes.append(reminder)
    if out.json_mode:
        out.document("pull", _body(config, report, pulls, profile, warnings, salt), exit_code=code)
    else:
        _print_text(out, report, pulls)
    out.notes(notes, git_warnings)
    ctx.exit(code)


def _exit_code(report: SyncReport, pulls: list[MappingPull]) -> int:
    if report.exit_code:
        return report.exit_code
    return 0 if all(p.ok for p in pulls) else 1


def _plaintext_reminder(pulls: list[MappingPull]) -> str | None:
    # pull leaves plaintext in files git tracks; say how it goes back before a commit.
    decrypted = _file_counts(pulls)["files_decrypted"]
    if not decrypted:
        return None
    files = "1 env file now holds" if decrypted == 1 else f"{decrypted} env files now hold"
    return (
        f"{files} plaintext: run 'envdrift lock' before you commit "
        "(the envdrift-encrypted pre-commit hook refuses plaintext)"
    )


def _decrypt_cell(pull: MappingPull) -> str:
    if pull.skipped:
        return "-"
    if any(f.outcome == "error" for f in pull.files):
        return "error"
    decrypted = [f for f in pull.files if f.outcome == "decrypted"]
    if not decrypted:
        return "unchanged"
    values = sum(f.values for f in decrypted)
    return f"{counted(len(decrypted), 'file')} ({values} values)"


def _print_text(out: Output, report: SyncReport, pulls: list[MappingPull]) -> None:
    rows = []
    for pull in pulls:
        result, mapping = pull.sync, pull.sync.mapping
        notes = [result.reason] if result.reason else []
        if result.backup is not None:
            notes.append(f"backup {result.backup.name}")
        if pull.skipped:
            notes.append(pull.skipped)
        notes.extend(f.reason for f in pull.files if f.outcome == "error")
        rows.append(
            [
                mapping.folder_path,
                result.secret_name or mapping.secret_name,
                mapping.environment or "-",
                str(result.outcome),
                _decrypt_cell(pull),
                "; ".join(notes),
            ]
        )
    out.table(["FOLDER", "SECRET", "ENVIRONMENT", "SYNC", "DECRYPT", "REASON"], rows)
    out.line()
    out.line(sync_summary(report))
    out.line(_decrypt_summary(pulls))


def _file_counts(pulls: list[MappingPull]) -> dict[str, int]:
    files = [f for p in pulls for f in p.files]
    counts = {"files": len(files)}
    for name in ("decrypted", "unchanged", "error"):
        counts[f"files_{name}"] = sum(1 for f in files if f.outcome == name)
    counts["not_decrypted"] = sum(1 for p in pulls if p.skipped and not p.sync.ok)
    return counts


def _decrypt_summary(pulls: list[MappingPull]) -> str:
    counts = _file_counts(pulls)
    parts = [f"{counts['files_decrypted']} decrypted", f"{counts['files_unchanged']} unchanged"]
    if counts["files_error"]:
        parts.append(f"{counts['files_error']} failed")
    total = counts["files"]
    line = f"{counted(total, 'env file')}: {', '.join(parts)}"
    not_decrypted = counts["not_decrypted"]
    if not_decrypted:
        line += f"; {counted(not_decrypted, 'mapping')} not decrypted"
    return line


def _body(
    config: Config,
    report: SyncReport,
    pulls: list[MappingPull],
    profile: str | None,
    warnings: list[str],
    salt: bytes,
) -> dict[str, Any]:
    return {
        "config": config.label,
        "provider": report.provider,
        "profile": profile,
        "mode": {
            "force": report.options.force,
            "ci": report.options.ci,
            "jobs": report.options.jobs,
        },
        "mappings": [
            {**p.sync.as_dict(salt, config.root), "decrypt": p.decrypt_dict(config.root)}
            for p in pulls
        ],
        "summary": {
            "total": len(pulls),
            **report.counts(),
            **_file_counts(pulls),
        },
        "warnings": warnings,
    }
