"""``envdrift encrypt``: encrypt env files in place, dotenvx-compatible."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from envdrift.cli._options import PathType, is_debug, registry_from
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.dotenvx.operations import KeySource
    from envdrift.gitsafety import GitProtection
    from envdrift.secrets import Secret


@click.command()
@click.argument("files", nargs=-1, type=PathType())
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing; exit 1 if any file still holds plaintext values.",
)
@click.option(
    "-fk",
    "--keys-file",
    type=PathType(dir_okay=False),
    help="Where to store a new private key (default: .env.keys next to each file).",
)
@click.option(
    "--new-key",
    is_flag=True,
    help="Create a new key pair for a file without one even when its folder is mapped to "
    "a vault (the vault's key then no longer opens it).",
)
@click.option(
    "--ci",
    is_flag=True,
    help="Never prompt; a key file git tracks fails the run; an unread config key is an error.",
)
@click.pass_context
def encrypt(
    ctx: click.Context,
    files: tuple[Path, ...],
    check: bool,
    keys_file: Path | None,
    new_key: bool,
    ci: bool,
) -> None:
    """Encrypt the plaintext values of FILES (default: .env) like `dotenvx encrypt`.

    With --check and no FILES, checks every .env* file of the current folder that
    dotenvx would encrypt (not .env.keys, backups, templates or .env.vault).

    A file without a DOTENV_PUBLIC_KEY line gets one: the private key named for the
    file (DOTENV_PRIVATE_KEY_<ENV>) is reused from the environment or the keys file,
    or a new pair is generated and the private key appended to the keys file. Values
    already encrypted are left as they are, so running it again changes nothing; a value
    that decrypts to the same text in the file git committed gets that ciphertext back,
    so a decrypt/encrypt round trip shows in `git diff` only the values that changed.

    In a folder that envdrift.toml maps to a vault, a file without a key gets the
    vault's key for that mapping (fetched as `envdrift sync` would), never a stray new
    pair; a new pair is made only when the vault has no key yet (then run
    `envdrift vault-push`) or with --new-key.
    """
    from pathlib import Path

    from envdrift.dotenvx.operations import encrypt_file
    from envdrift.errors import EnvdriftError
    from envdrift.gitsafety import GitProtection

    out = Output()
    exit_code = 0
    git = GitProtection()
    first_setup: list[str] = []
    source = None if new_key or keys_file is not None else vault_key_source(ctx, first_setup)
    if check and not files:
        files = _check_candidates()
        if not files:
            out.line("no .env* file here to check")
    for path in files if files or check else (Path(".env"),):
        first_setup.clear()
        try:
            outcome = encrypt_file(path, keys_file=keys_file, check=check, key_source=source)
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
            for note in first_setup:
                out.info(note)
        elif outcome.key_fetched:
            out.info(
                f"{path}: using the vault's key ({outcome.key_fetched}), stored in "
                f"{outcome.keys_path} as `envdrift sync` would"
            )
        elif outcome.key_reused:
            out.info(f"{path}: using the existing private key {outcome.key_reused}")
        if outcome.git is not None:
            git.merge(outcome.git)
        if outcome.changed:
            count, kept = len(outcome.encrypted), len(outcome.kept)
            unchanged = f"; {kept} unchanged, committed ciphertext kept" if kept else ""
            out.line(f"encrypted {path} ({count} value{_s(count)}{unchanged})")
        else:
            out.line(f"no change to {path}")
    exit_code = max(exit_code, _report_git(out, git, ci=ci))
    if exit_code:
        ctx.exit(exit_code)


#: ``.env*`` names dotenvx itself never expects encrypted (its precommit check skips them).
_DOTENVX_EXEMPT = frozenset({".env.vault", ".env.x"})


def _check_candidates() -> tuple[Path, ...]:
    """What ``encrypt --check`` checks without FILES: every ``.env*`` file here that
    dotenvx would encrypt (not keys files, their backups, templates or ``.env.vault``)."""
    from pathlib import Path

    from envdrift.mapfiles import folder_env_files

    return tuple(
        path
        for path in folder_env_files(Path("."))
        if path.name.startswith(".env") and path.name not in _DOTENVX_EXEMPT
    )


def _report_git(out: Output, git: GitProtection, *, ci: bool) -> int:
    """Print what ``protect`` did; 1 under ``--ci`` when git tracks a key file."""
    out.notes(*git.messages())
    return 1 if ci and git.tracked else 0


def vault_key_source(ctx: click.Context, first_setup: list[str]) -> KeySource:
    """The ``KeySource`` that gives a mapped folder's file the vault's key, never a new
    pair (``encrypt`` and ``set`` of a new file); ``first_setup`` collects the notes for a
    vault that holds no key yet."""

    def source(path: Path, name: str) -> tuple[Secret, str] | None:
        from envdrift.errors import EnvdriftError, NotFoundError
        from envdrift.keyvalue import normalize_private_key
        from envdrift.session import open_vaults
        from envdrift.targets import covering_target

        target = covering_target(path)
        if target is None or target.mapping.key_name != name:
            return None  # no mapping for this file's key: a new pair is nobody's stray
        mapping = target.mapping
        registry = registry_from(ctx)
        sync = target.sync_command(registry, provider=None, flags={})
        secret = mapping.secret_name
        where = f"secret {secret!r}"
        try:
            with open_vaults(target.config, registry, debug=is_debug(ctx)) as vaults:
                vault, secret = vaults.for_mapping(mapping)
                where = f"secret {secret!r} in {vault.describe()}"
                key = normalize_private_key(vault.fetch(secret), mapping.environment, source=where)
        except NotFoundError:
            push = target.push_command(secret, registry, provider=None, flags={}, force=False)
            first_setup.append(
                f"{where} holds no key yet (first setup): run `{push}` to store it, so "
                "that teammates and CI get it with `envdrift sync`"
            )
            return None
        except EnvdriftError as exc:
            raise EnvdriftError(
                f"{path} has no key yet and {mapping.folder_path!r} is mapped to {where}, "
                f"which could not be read: {exc}. Run `{sync}` to fetch the vault's key and "
                "encrypt again, or pass --new-key to create a new pair (the vault's key "
                "would then not open the file)"
            ) from None
        return key, where

    return source


def _s(count: int) -> str:
    return "" if count == 1 else "s"
