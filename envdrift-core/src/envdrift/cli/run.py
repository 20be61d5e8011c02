"""``envdrift run``: start a command with env files decrypted into its environment.

Nothing is written: the keys and the plaintext live only in this process until it
becomes the command (``exec``), so the command's exit status and the signals it gets are
its own. The rules are ``dotenvx run``'s (``envdrift.runenv``).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

from envdrift.cli._options import env_file_options, registry_from, vault_options
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from envdrift.cli._vault_flags import VaultFlags
    from envdrift.config import Config
    from envdrift.runenv import Injection
    from envdrift.session import VaultSet


@click.command(context_settings={"allow_interspersed_args": False})
@env_file_options(
    "Env file to load (repeatable, or comma-separated; a folder means its .env). "
    "Default: .env, or the files named by DOTENV_PRIVATE_KEY_* variables."
)
@vault_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD")
@click.pass_context
def run(
    ctx: click.Context,
    env_files: tuple[str, ...],
    keys_file: Path | None,
    overload: bool,
    vault_flags: VaultFlags,
    command: tuple[str, ...],
) -> None:
    """Run CMD with the decrypted values of the env files in its environment.

    Like `dotenvx run`: files load in order; a variable already set wins unless
    --overload; $VAR and ${VAR:-default} are expanded. Each file's key comes from a
    DOTENV_PRIVATE_KEY* variable, else from the vault of the envdrift.toml mapping
    covering its folder, else from .env.keys. Nothing is written to disk, and
    $(command) in a value is never executed.

    Exit status: CMD's own. Before CMD starts: 1 when a value does not decrypt
    (the names are listed, never the values) or the vault fails, 2 for a missing
    file or a configuration error, 127 when CMD is not found.
    """
    from envdrift.runenv import env_files as resolve_files

    out = Output()
    files = resolve_files(env_files, os.environ)
    injection = decrypted_environment(ctx, out, vault_flags, files, keys_file, overload=overload)
    _exec(ctx, out, command, injection.environ)


def decrypted_environment(
    ctx: click.Context,
    out: Output,
    vault_flags: VaultFlags,
    files: Sequence[Path],
    keys_file: Path | None,
    *,
    overload: bool,
) -> Injection:
    """``os.environ`` with ``files`` decrypted into it (``envdrift.runenv``), for ``run``
    and ``get``: each key from a variable, else the vault of the covering mapping, else
    the keys file. The notes are printed as warnings."""
    from envdrift.runenv import VaultKeys, build_environment

    config = vault_flags.config_if_any()

    def open_vaults(loaded: Config) -> VaultSet:
        # Plugins load only when a file needs its vault key.
        return vault_flags.open_vaults(loaded, registry_from(ctx), ctx)

    vault_keys = VaultKeys(config, open_vaults)
    try:
        injection = build_environment(
            files, environ=os.environ, overload=overload, keys_file=keys_file, vault_key=vault_keys
        )
    finally:
        vault_keys.close()
    for note in injection.notes:
        out.warn(note)
    return injection


def _exec(
    ctx: click.Context, out: Output, command: Sequence[str], environ: dict[str, str]
) -> NoReturn:
    """Become ``command`` (POSIX), or run it and pass its status on (Windows)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if os.name == "posix":
            os.execvpe(command[0], list(command), environ)
        import subprocess

        completed = subprocess.run(list(command), env=environ, check=False)
        ctx.exit(completed.returncode)
    except FileNotFoundError:
        out.error(f"command not found: {command[0]}")
        ctx.exit(127)
    except PermissionError:
        out.error(f"permission denied: {command[0]} (is it executable?)")
        ctx.exit(126)
    except OSError as exc:
        out.error(f"cannot run {command[0]}: {exc.strerror or exc}")
        ctx.exit(126)
