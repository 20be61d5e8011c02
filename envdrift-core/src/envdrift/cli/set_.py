"""``envdrift set``: write one value into env files, encrypted (like ``dotenvx set``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from envdrift.cli._options import PathType
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.gitsafety import GitProtection


@click.command("set")
@click.argument("key")
@click.argument("value")
@click.option(
    "-f",
    "--env-file",
    "files",
    multiple=True,
    type=PathType(dir_okay=False),
    metavar="FILE",
    help="Env file to write (repeatable; default: .env). A missing file is created.",
)
@click.option("--plain", is_flag=True, help="Store the value readable instead of encrypted.")
@click.option(
    "--ci",
    is_flag=True,
    help="A key file git tracks fails the run; an unread config key is an error.",
)
@click.pass_context
def set_(
    ctx: click.Context, key: str, value: str, files: tuple[Path, ...], plain: bool, ci: bool
) -> None:
    """Set KEY to VALUE in each FILE, encrypted for the file's public key.

    Like `dotenvx set`: no private key is needed, since the value is encrypted to the
    DOTENV_PUBLIC_KEY the file already holds. An existing KEY keeps its line, quote and
    comment; a new one is appended. Every other line stays byte for byte as it was.

    A missing FILE is created with a key as `envdrift encrypt` makes one: in a folder
    that envdrift.toml maps to a vault, the vault's key, never a stray new pair.
    Use `--` before a VALUE that starts with a dash.
    """
    from pathlib import Path

    from envdrift.dotenvx.setvalue import check_key_name, set_value
    from envdrift.gitsafety import GitProtection

    check_key_name(key)
    out = Output()
    git = GitProtection()
    for path in files or (Path(".env"),):
        if not path.exists():
            _create(ctx, out, path, git, plain=plain)
        outcome = set_value(path, key, value, plain=plain)
        how = "encrypted" if outcome.encrypted else "plain text"
        verb = "replaced" if outcome.replaced else "added"
        out.line(f"set {key} in {path} ({how}, {verb})")
    out.notes(*git.messages())
    if ci and git.tracked:
        ctx.exit(1)


def _create(
    ctx: click.Context, out: Output, path: Path, git: GitProtection, *, plain: bool
) -> None:
    """Make the missing env file ``path``: empty with ``--plain``, else with a key."""
    from envdrift._fs import atomic_write

    atomic_write(path, b"")
    if plain:
        return
    from envdrift.cli.encrypt import vault_key_source
    from envdrift.dotenvx.operations import encrypt_file

    notes: list[str] = []
    try:
        outcome = encrypt_file(path, key_source=vault_key_source(ctx, notes))
    except BaseException:
        path.unlink(missing_ok=True)  # no half-made file left behind
        raise
    if outcome.key_fetched:
        out.info(f"created {path} with the vault's key ({outcome.key_fetched})")
    else:
        out.info(f"created {path} with a new key pair; private key in {outcome.keys_path}")
    for note in notes:
        out.info(note)
    if outcome.git is not None:
        git.merge(outcome.git)
