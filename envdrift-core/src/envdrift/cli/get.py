"""``envdrift get``: print one decrypted value (like ``dotenvx get``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from envdrift.cli._options import VaultFlags, keys_file_option, registry_from, vault_options
from envdrift.cli._output import Output


@click.command()
@click.argument("key", required=False)
@click.option(
    "-f",
    "--env-file",
    "env_files",
    multiple=True,
    metavar="FILE",
    help="Env file to read (repeatable, or comma-separated). Default: .env, or the files "
    "named by DOTENV_PRIVATE_KEY_* variables.",
)
@keys_file_option(
    "Read private keys from this file (default: .env.keys next to each FILE and in .)."
)
@click.option(
    "-o",
    "--overload",
    is_flag=True,
    help="File values win over variables already set (and later files over earlier).",
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
    from envdrift.runenv import VaultKeys, build_environment
    from envdrift.runenv import env_files as resolve_files

    out = Output()
    config = vault_flags.config_if_any()
    vault_keys = VaultKeys(
        config, lambda loaded: vault_flags.open_vaults(loaded, registry_from(ctx), ctx)
    )
    files = resolve_files(env_files, os.environ)
    try:
        injection = build_environment(
            files, environ=os.environ, overload=overload, keys_file=keys_file, vault_key=vault_keys
        )
    finally:
        vault_keys.close()
    for note in injection.notes:
        out.warn(note)
    values = {name: injection.environ[name] for name in injection.loaded}
    if key is None:
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
