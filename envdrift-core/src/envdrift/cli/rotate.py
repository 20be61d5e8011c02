"""``envdrift rotate``: new key pair, vault updated and verified, then files swapped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from envdrift._suggest import counted
from envdrift.cli._options import PathType, registry_from, vault_options
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.cli._vault_flags import VaultFlags


@click.command()
@click.argument("file", type=PathType(dir_okay=False))
@click.option("--secret", help="Vault secret for the key (default: the folder's mapping).")
@click.option("--env", "environment", help="Environment of the key (default: from FILE's name).")
@vault_options
@click.option("--ci", is_flag=True, help="A config key envdrift does not read is an error.")
@click.pass_context
def rotate(
    ctx: click.Context,
    file: Path,
    secret: str | None,
    environment: str | None,
    vault_flags: VaultFlags,
    ci: bool,
) -> None:
    """Rotate FILE's key pair and the vault's copy of the private key, safely.

    Every value is re-encrypted with a new key pair in memory; the new private key is
    stored in the vault as a new version and read back to prove it decrypts the new
    file; only then are FILE and .env.keys replaced (the old .env.keys is backed up).
    If storing or verifying fails, local files are untouched and the vault's previous
    value is made current again.
    """
    import shlex

    from envdrift.rotation import rotate_file

    out = Output()
    registry = registry_from(ctx)
    target = vault_flags.file_target(file, secret=secret, environment=environment)
    with vault_flags.open_vaults(target.config, registry, ctx) as vaults:
        _, secret_name = vaults.target(target.mapping)
        recover = target.push_command(
            secret_name, registry, provider=vault_flags.provider, flags=vault_flags.flags
        )
        result = rotate_file(file, target, vaults, recover=recover)
    out.line(
        f"rotated {file}: {counted(result.values, 'value')} "
        f"re-encrypted for {result.public_key[:10]}…, new key stored in secret "
        f"{result.secret!r} in {result.vault} and verified"
    )
    if result.backup is not None:
        out.line(f"previous keys kept in {result.backup}")
    out.notes(*result.git.messages())
    sync = target.sync_command(registry, provider=vault_flags.provider, flags=vault_flags.flags)
    if target.config_found:
        out.line(f"commit {shlex.quote(str(file))}; teammates then run: {sync}")
        return
    # `envdrift sync` reads only mappings: without a config file, say which one to add.
    out.line(
        f"commit {shlex.quote(str(file))}; `envdrift sync` needs a mapping to fetch the new "
        "key, so also commit an envdrift.toml here holding:"
    )
    for line in target.mapping_lines(
        registry, provider=vault_flags.provider, flags=vault_flags.flags
    ):
        out.line(f"    {line}" if line else "")
    out.line("teammates then run: envdrift sync --force")
