"""``envdrift decrypt``: decrypt an env file in place or to stdout, or (``--verify-vault``)
prove that the vault's key decrypts it without decrypting anything to disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from envdrift.cli._options import (
    PathType,
    format_option,
    is_debug,
    keys_file_option,
    registry_from,
    vault_options,
)
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from envdrift.cli._vault_flags import VaultFlags
    from envdrift.errors import EnvdriftError


@click.command()
@click.argument("files", nargs=-1, type=PathType())
@click.option(
    "--stdout", "to_stdout", is_flag=True, help="Print the decrypted file; leave it as it is."
)
@keys_file_option("Read private keys from this file (default: .env.keys next to FILE and in .).")
@click.option(
    "--verify-vault",
    is_flag=True,
    help="Only check, in memory, that the vault's key decrypts FILE; write nothing.",
)
@click.option(
    "--repair",
    is_flag=True,
    help="With --verify-vault: when a key held here opens FILE but the vault's does not, "
    "re-encrypt FILE for the vault's key (every value kept) and put that key in .env.keys.",
)
@click.option("--secret", help="With --verify-vault: the vault secret holding the key.")
@click.option("--env", "environment", help="With --verify-vault: the key's environment.")
@vault_options
@click.option(
    "--ci",
    is_flag=True,
    help="Never prompt (decrypt never does); a config key envdrift does not read is an error.",
)
@format_option("With --verify-vault, json: one document on stdout.")
@click.pass_context
def decrypt(
    ctx: click.Context,
    files: tuple[Path, ...],
    to_stdout: bool,
    keys_file: Path | None,
    verify_vault: bool,
    repair: bool,
    secret: str | None,
    environment: str | None,
    vault_flags: VaultFlags,
    ci: bool,
    output_format: str,
) -> None:
    """Decrypt FILES (default: .env) in place, like `dotenvx decrypt`.

    The key comes from DOTENV_PRIVATE_KEY* environment variables or the keys file,
    matched to the file's DOTENV_PUBLIC_KEY. Unlike dotenvx, values are written back
    exactly as stored (no $VAR expansion, no command substitution) and quoted so that
    they read back intact.

    With --verify-vault, nothing is decrypted to disk: the key is fetched from the
    vault (the mapping of each file's folder in envdrift.toml, or --secret with -p and
    the vault flags) and checked in memory against every encrypted value. Exit 0 when it
    decrypts them all; exit 1, with the repair steps, when it does not. Add --repair to
    re-encrypt a file that a key held here opens (a teammate's stray key) for the
    vault's key, keeping every value.
    """
    from pathlib import Path

    paths = list(files) or [Path(".env")]
    vault_only = {
        "--secret": secret,
        "--env": environment,
        "-p": vault_flags.provider,
        "--vault-url": vault_flags.vault_url,
        "--region": vault_flags.region,
        "-c": vault_flags.config_file,
        "--timeout": vault_flags.timeout,
        "--retries": vault_flags.retries,
        "--deadline": vault_flags.deadline,
    }
    if not verify_vault:
        used = [flag for flag, value in vault_only.items() if value is not None]
        if repair:
            used.append("--repair")
        if used or output_format != "text":
            flags = used or ["--format"]
            raise click.UsageError(f"{', '.join(flags)} only apply with --verify-vault")
        if to_stdout and len(paths) > 1:
            raise click.UsageError("--stdout prints one FILE; give just one")
        ctx.exit(_each(ctx, paths, lambda path: _decrypt_plain(ctx, path, keys_file, to_stdout)))
    if to_stdout or keys_file is not None:
        raise click.UsageError("--verify-vault reads no keys file and prints no plaintext")
    from envdrift.cli._verify import VaultCheck

    check = VaultCheck(
        ctx,
        secret=secret,
        environment=environment,
        vault_flags=vault_flags,
        repair=repair,
        json_mode=output_format == "json",
    )
    code = _each(ctx, paths, check.run, on_error=check.failed)
    check.finish(multiple=len(paths) > 1)
    ctx.exit(code)


def _each(
    ctx: click.Context,
    paths: list[Path],
    work: Callable[[Path], int],
    *,
    on_error: Callable[[Path, EnvdriftError], None] | None = None,
) -> int:
    """Run ``work`` on every path and return the worst exit code; an error on one path is
    printed and the others still run."""
    from envdrift.errors import EnvdriftError

    code = 0
    for path in paths:
        try:
            code = max(code, work(path))
        except EnvdriftError as exc:
            if is_debug(ctx):
                raise
            if on_error is not None:
                on_error(path, exc)
            Output().error(str(exc))
            code = max(code, exc.exit_code)
    return code


def _decrypt_plain(ctx: click.Context, path: Path, keys_file: Path | None, to_stdout: bool) -> int:
    from envdrift.dotenvx.operations import DecryptWithWrongKeyError, decrypt_file

    out = Output()
    try:
        outcome = decrypt_file(path, keys_file=keys_file, write=not to_stdout)
    except DecryptWithWrongKeyError as exc:
        hint = _sync_hint(ctx, path) if keys_file is None else None
        if hint is None:
            raise
        raise DecryptWithWrongKeyError(f"{exc} {hint}") from None
    for leftover in outcome.leftovers:
        out.warn(f"{path}, {leftover.describe()}")
    for requoted in outcome.requoted:
        out.info(f"{path}, {requoted.describe()}")
    if to_stdout:
        out.write(outcome.text)
        return 0
    if outcome.changed:
        count = len(outcome.decrypted)
        out.line(f"decrypted {path} ({count} value{'' if count == 1 else 's'})")
    else:
        out.line(f"no change to {path} (nothing encrypted)")
    return 0


def _sync_hint(ctx: click.Context, path: Path) -> str | None:
    """When a mapping covers ``path``: the ``sync --force`` that fetches its current key."""
    from envdrift.targets import covering_target

    target = covering_target(path)
    if target is None:
        return None
    sync = target.sync_command(registry_from(ctx), provider=None, flags={})
    return (
        f"The vault holds this folder's key (secret {target.mapping.secret_name!r}): "
        f"if {path} was rotated, run `{sync}` to fetch the current key "
        "(the old .env.keys is kept as a backup)."
    )
