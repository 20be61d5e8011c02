"""``envdrift decrypt``: decrypt an env file in place or to stdout."""

from __future__ import annotations

from pathlib import Path

import click

from envdrift.cli._output import Output


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--stdout", "to_stdout", is_flag=True, help="Print the decrypted file; leave it as it is."
)
@click.option(
    "-fk",
    "--keys-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read private keys from this file (default: .env.keys next to FILE and in .).",
)
def decrypt(file: Path | None, to_stdout: bool, keys_file: Path | None) -> None:
    """Decrypt FILE (default: .env) in place, like `dotenvx decrypt`.

    The key comes from DOTENV_PRIVATE_KEY* environment variables or the keys file,
    matched to the file's DOTENV_PUBLIC_KEY. Unlike dotenvx, values are written back
    exactly as stored (no $VAR expansion, no command substitution) and quoted so that
    they read back intact.
    """
    path = file or Path(".env")
    _decrypt_plain(Output(), path, keys_file=keys_file, to_stdout=to_stdout)


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
