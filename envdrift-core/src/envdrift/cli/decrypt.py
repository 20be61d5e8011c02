"""``envdrift decrypt``: decrypt an env file in place or to stdout, or (``--verify-vault``)
prove that the vault's key decrypts it without decrypting anything to disk."""

from __future__ import annotations

from pathlib import Path

import click

from envdrift.cli._options import (
    VaultFlags,
    format_option,
    keys_file_option,
    registry_from,
    vault_options,
)
from envdrift.cli._output import Output


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--stdout", "to_stdout", is_flag=True, help="Print the decrypted file; leave it as it is."
)
@keys_file_option("Read private keys from this file (default: .env.keys next to FILE and in .).")
@click.option(
    "--verify-vault",
    is_flag=True,
    help="Only check, in memory, that the vault's key decrypts FILE; write nothing.",
)
@click.option("--secret", help="With --verify-vault: the vault secret holding the key.")
@click.option("--env", "environment", help="With --verify-vault: the key's environment.")
@vault_options
@click.option("--ci", is_flag=True, help="Never prompt (envdrift decrypt never does).")
@format_option("With --verify-vault, json: one document on stdout.")
@click.pass_context
def decrypt(
    ctx: click.Context,
    file: Path | None,
    to_stdout: bool,
    keys_file: Path | None,
    verify_vault: bool,
    secret: str | None,
    environment: str | None,
    vault_flags: VaultFlags,
    ci: bool,
    output_format: str,
) -> None:
    """Decrypt FILE (default: .env) in place, like `dotenvx decrypt`.

    The key comes from DOTENV_PRIVATE_KEY* environment variables or the keys file,
    matched to the file's DOTENV_PUBLIC_KEY. Unlike dotenvx, values are written back
    exactly as stored (no $VAR expansion, no command substitution) and quoted so that
    they read back intact.

    With --verify-vault, nothing is decrypted to disk: the key is fetched from the
    vault (the mapping of FILE's folder in envdrift.toml, or --secret with -p and the
    vault flags) and checked in memory against every encrypted value. Exit 0 when it
    decrypts them all; exit 1, with the repair steps, when it does not.
    """
    path = file or Path(".env")
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
        if used or output_format != "text":
            flags = used or ["--format"]
            raise click.UsageError(f"{', '.join(flags)} only apply with --verify-vault")
        _decrypt_plain(Output(), path, keys_file=keys_file, to_stdout=to_stdout)
        return
    if to_stdout or keys_file is not None:
        raise click.UsageError("--verify-vault reads no keys file and prints no plaintext")
    _verify_vault(
        ctx,
        path,
        secret=secret,
        environment=environment,
        vault_flags=vault_flags,
        json_mode=output_format == "json",
    )


def _decrypt_plain(out: Output, path: Path, *, keys_file: Path | None, to_stdout: bool) -> None:
    from envdrift.dotenvx.operations import decrypt_file

    outcome = decrypt_file(path, keys_file=keys_file, write=not to_stdout)
    for leftover in outcome.leftovers:
        out.warn(f"{path}, {leftover.describe()}")
    for requoted in outcome.requoted:
        out.info(f"{path}, {requoted.describe()}")
    if to_stdout:
        out.write(outcome.text)
        return
    if outcome.changed:
        count = len(outcome.decrypted)
        out.line(f"decrypted {path} ({count} value{'' if count == 1 else 's'})")
    else:
        out.line(f"no change to {path} (nothing encrypted)")


def _verify_vault(
    ctx: click.Context,
    path: Path,
    *,
    secret: str | None,
    environment: str | None,
    vault_flags: VaultFlags,
    json_mode: bool,
) -> None:
    from envdrift.drift import repair_steps, verify_vault

    out = Output(json_mode=json_mode)
    registry = registry_from(ctx)
    with out.json_errors("decrypt", lambda: {"file": str(path), "ok": False}):
        target = vault_flags.file_target(path, secret=secret, environment=environment)
        with vault_flags.open_vaults(target.config, registry, ctx) as vaults:
            result = verify_vault(path, target, vaults)
    sync = target.sync_command(registry, provider=vault_flags.provider, flags=vault_flags.flags)
    steps = repair_steps(path, target, sync)
    if json_mode:
        out.document(
            "decrypt",
            {**result.as_dict(), "repair": [] if result.ok else steps},
            exit_code=0 if result.ok else 1,
        )
    elif result.ok:
        count = result.check.checked
        out.line(
            f"ok: the key in {result.vault} (secret {result.secret!r}) decrypts {path} "
            f"({count} value{'' if count == 1 else 's'})"
        )
    else:
        out.error(result.explain())
        out.info("To repair:")
        for number, step in enumerate(steps, 1):
            out.info(f"  {number}. {step}")
    ctx.exit(0 if result.ok else 1)
