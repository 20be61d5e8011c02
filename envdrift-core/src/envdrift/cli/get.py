"""``envdrift get``: print one decrypted value (like ``dotenvx get``)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from envdrift.cli._options import env_file_options, vault_options
from envdrift.cli._output import Output
from envdrift.cli.run import decrypted_environment

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.cli._vault_flags import VaultFlags


@click.command()
@click.argument("key", required=False)
@env_file_options(
    "Env file to read (repeatable, or comma-separated). Default: .env, or the files "
    "named by DOTENV_PRIVATE_KEY_* variables."
)
@vault_options
@click.pass_context
def get(
    ctx: click.Context,
    key: str | None,
    env_files: tuple[str, ...],
    keys_file: Path | None,
    overload: bool,
    vault_flags: VaultFlags,
) -> None:
    """Print KEY's decrypted value (like `dotenvx get KEY`).

    Without KEY, prints every variable of the files as one JSON object.

    The files are read as `envdrift run` reads them (dotenvx's order, precedence and
    $VAR expansion; a variable already set wins unless --overload), and each key comes
    from a DOTENV_PRIVATE_KEY* variable, else the vault of the covering envdrift.toml
    mapping, else .env.keys. Nothing is written.

    Exit status: 0; 1 when KEY is not set by the files or a value does not decrypt;
    2 for a missing file or a configuration error.
    """
    from envdrift.runenv import env_files as resolve_files

    out = Output()
    files = resolve_files(env_files, os.environ)
    injection = decrypted_environment(ctx, out, vault_flags, files, keys_file, overload=overload)
    values = {name: injection.environ[name] for name in injection.loaded}
    if key is None:
        import json

        text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    elif key in values:
        text = values[key]
    else:
        where = ", ".join(str(path) for path in files)
        out.error(f"{key} is not set in {where}")
        ctx.exit(1)
    # The exact bytes, also through a pipe (click.echo would strip ANSI sequences).
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
