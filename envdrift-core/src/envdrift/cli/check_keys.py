"""``envdrift check-keys``: fail when a file that is about to be committed holds a private key.

The command behind the ``envdrift-keys-not-committed`` pre-commit hook. It names files
and lines, never a key.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from envdrift._suggest import counted
from envdrift.cli._options import PathType
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from pathlib import Path


@click.command("check-keys")
@click.argument("files", nargs=-1, type=PathType())
@click.option(
    "--keys-filename",
    default=".env.keys",
    show_default=True,
    help="The keys file's name ([vault.sync] env_keys_filename).",
)
@click.pass_context
def check_keys(ctx: click.Context, files: tuple[Path, ...], keys_filename: str) -> None:
    """Exit 1 when any of FILES holds a private key; name each such file, never the key.

    Refused by name: a keys file, a backup of one (.env.keys.backup.<time>), an envdrift
    temporary file. Refused by content: any file with a DOTENV_PRIVATE_KEY* line holding
    a key. Without FILES, every file git tracks in this work tree is checked.
    """
    from pathlib import Path

    from envdrift.gitsafety import holds_private_key, tracked_files, work_tree_of

    out = Output()
    paths = list(files)
    if not paths:
        tree = work_tree_of(Path.cwd())
        if tree is None:
            raise click.UsageError("not in a git work tree: name the FILES to check")
        paths = [Path(os.path.relpath(path)) for path in tracked_files(tree)]
    found = 0
    for path in paths:
        if not os.path.isfile(path):
            continue  # deleted or renamed away in this commit: nothing of it is committed
        reason = holds_private_key(path, keys_filename)
        if reason is not None:
            found += 1
            out.error(f"{path} {reason}" if reason.startswith("is ") else f"{path}, {reason}")
    if found:
        out.info(
            f"{counted(found, 'file')} with private keys: unstage "
            f"{'them' if found != 1 else 'it'} (git restore --staged FILE) and keep "
            "keys in the vault and .env.keys (git-ignored) only"
        )
        ctx.exit(1)
    out.line(f"no private keys in {counted(len(paths), 'file')}")
