"""``envdrift encrypt``: encrypt env files in place, dotenvx-compatible."""

from __future__ import annotations

from pathlib import Path

import click

from envdrift.cli._output import Output


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing; exit 1 if any file still holds plaintext values.",
)
@click.option(
    "-fk",
    "--keys-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to store a new private key (default: .env.keys next to each file).",
)
@click.pass_context
def encrypt(
    ctx: click.Context, files: tuple[Path, ...], check: bool, keys_file: Path | None
) -> None:
    """Encrypt the plaintext values of FILES (default: .env) like `dotenvx encrypt`.

    A file without a DOTENV_PUBLIC_KEY line gets one: the private key named for the
    file (DOTENV_PRIVATE_KEY_<ENV>) is reused from the environment or the keys file,
    or a new pair is generated and the private key appended to the keys file. Values
    already encrypted are left as they are, so running it again changes nothing.
    """
    from envdrift.dotenvx.operations import encrypt_file
    from envdrift.errors import EnvdriftError

    out = Output()
    exit_code = 0
    for path in files or (Path(".env"),):
        try:
            outcome = encrypt_file(path, keys_file=keys_file, check=check)
        except EnvdriftError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            out.error(str(exc))
            exit_code = max(exit_code, exc.exit_code)
            continue
        for leftover in outcome.leftovers:
            if check:
                out.line(f"{path}: {leftover.describe()}")
            else:
                out.warn(f"{path}, {leftover.describe()}; it stays in plain text")
        if outcome.leftovers:
            exit_code = max(exit_code, 1)
        if check:
            pending = len(outcome.encrypted)
            if pending:
                exit_code = max(exit_code, 1)
                names = ", ".join(dict.fromkeys(outcome.encrypted))
                out.line(f"{path}: {pending} plaintext value{_s(pending)}: {names}")
            elif not outcome.leftovers:
                out.line(f"{path}: all values encrypted")
            continue
        if outcome.key_created:
            out.info(f"created a key pair for {path}; private key in {outcome.keys_path}")
        elif outcome.key_reused:
            out.info(f"{path}: using the existing private key {outcome.key_reused}")
        if outcome.gitignore is not None:
            out.info(f"added .env.keys to {outcome.gitignore}")
        if outcome.changed:
            count = len(outcome.encrypted)
            out.line(f"encrypted {path} ({count} value{_s(count)})")
        else:
            out.line(f"no change to {path}")
    if exit_code:
        ctx.exit(exit_code)


def _s(count: int) -> str:
    return "" if count == 1 else "s"
