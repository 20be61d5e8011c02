"""``envdrift vault-push``: store local private keys in the vault."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from envdrift.cli._options import (
    PathType,
    format_option,
    profile_option,
    registry_from,
    vault_options,
)
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.cli._vault_flags import VaultFlags


@click.command("vault-push")
@click.argument("folder", required=False, type=PathType(file_okay=False))
@click.argument("secret", required=False)
@click.option("--env", "environment", help="Environment of the key (default: production).")
@vault_options
@profile_option("push")
@click.option("--force", is_flag=True, help="Store the local key over a different vault value.")
@click.option("--verify", is_flag=True, help="Store nothing; exit 1 when anything would be pushed.")
@click.option("--ci", is_flag=True, help="A config key envdrift does not read is an error.")
@format_option("json: one document on stdout.")
@click.pass_context
def vault_push(
    ctx: click.Context,
    folder: Path | None,
    secret: str | None,
    environment: str | None,
    vault_flags: VaultFlags,
    profile: str | None,
    force: bool,
    verify: bool,
    ci: bool,
    output_format: str,
) -> None:
    """Store each mapping's local key (from .env.keys) in the vault as the bare key.

    Without arguments, pushes every configured mapping; `FOLDER SECRET [--env ENV]`
    pushes one folder's key. A different value already in the vault is kept unless
    --force is given (the vault keeps its previous version either way).

    Exit status as in `envdrift sync`: 1 when any mapping failed or (with --verify)
    would change, 2 for configuration and usage errors.
    """
    from pathlib import Path

    from envdrift.config import load_config
    from envdrift.push import run_push
    from envdrift.targets import resolve_target

    if verify and force:
        raise click.UsageError("--verify and --force exclude each other")
    if (folder is None) != (secret is None):
        raise click.UsageError("give both FOLDER and SECRET, or neither")
    out = Output(json_mode=output_format == "json")
    registry = registry_from(ctx)
    cwd = Path.cwd()
    with out.json_errors("vault-push", lambda: {"verify": verify, "mappings": [], "summary": None}):
        if folder is not None:
            target = resolve_target(
                folder,
                cwd=cwd,
                config_file=vault_flags.config_file,
                secret=secret,
                environment=environment,
            )
            config, mappings = target.config, [target.mapping]
        else:
            config = load_config(vault_flags.config_file, cwd)
            mappings = config.select(profile)
        with vault_flags.open_vaults(config, registry, ctx) as vaults:
            report = run_push(vaults, mappings, force=force, verify=verify)
    if out.json_mode:
        out.document(
            "vault-push",
            {
                "verify": verify,
                "mappings": [r.as_dict() for r in report.results],
                "summary": {"total": len(report.results), **report.counts()},
            },
            exit_code=report.exit_code,
        )
    else:
        out.table(
            ["FOLDER", "SECRET", "ENVIRONMENT", "OUTCOME", "REASON"],
            [
                [
                    r.mapping.folder_path,
                    r.secret,
                    r.mapping.environment,
                    str(r.outcome),
                    r.reason,
                ]
                for r in report.results
            ],
        )
        summary = ", ".join(f"{n} {o}" for o, n in report.counts().items() if n)
        out.line(f"vault-push: {summary}")
    ctx.exit(report.exit_code)
