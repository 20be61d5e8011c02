"""``rotate``: a new key pair for an env file, stored in the vault, verified, then swapped in.

The order makes every failure recoverable:

1. In memory: decrypt every value with the current key and re-encrypt it for a new key
   pair; the file's ``DOTENV_PUBLIC_KEY*`` gets the new public key.
2. Preflight: the env file and ``.env.keys`` must both be replaceable (writable, in a
   writable folder, regular files, no symlink out of the project) before the vault is
   touched.
3. Store the new private key in the vault as a new version.
4. Fetch it back and prove, through ``envdrift_verify_decryption``, that it decrypts
   the new text.
5. Only then, under the keys writers' lock, replace the env file and then the
   ``.env.keys`` line, atomically (the old keys file is kept as a 0600 backup).

When step 3, 4 or 5 fails, the env file gets its old bytes back and the vault's previous
value is stored again (made current); when that is impossible the error says what to
run. A process killed between the steps leaves one of three states, each named by
``envdrift sync --check-decryption`` and repaired by commands (docs/resilience.md):
the vault ahead of both files (``vault-push --force`` or ``rotate`` again), or the env
file and vault ahead of ``.env.keys`` (``sync --force``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift._fs import ENV_FILE_LIMIT, atomic_write, backup_stamp, check_replaceable, read_limited
from envdrift.dotenvx.crypto import (
    Decryptor,
    Encryptor,
    decrypt_with_any,
    generate_keypair,
    is_encrypted,
)
from envdrift.dotenvx.envfile import EnvFile
from envdrift.dotenvx.keyring import Keyring
from envdrift.dotenvx.keysfile import KeysFile, check_keys_path, update_keys_file
from envdrift.dotenvx.operations import check_env_file_name
from envdrift.errors import ConfigError, DecryptionError, EnvdriftError, FormatError, NotFoundError
from envdrift.gitsafety import GitProtection
from envdrift.keyvalue import normalize_private_key

if TYPE_CHECKING:
    from envdrift.secrets import Secret
    from envdrift.session import VaultSet
    from envdrift.targets import Target
    from envdrift.vaults import Vault

__all__ = ["RotationError", "RotationResult", "rotate_file", "rotate_text"]


class RotationError(EnvdriftError):
    """Rotation stopped before the local swap; the message says what state things are in."""


@dataclass(frozen=True)
class RotationResult:
    """What ``rotate_file`` did.

    Attributes:
        file: The env file rotated.
        keys_file: The keys file updated.
        backup: The previous keys file's backup, if there was one.
        secret: The vault secret now holding the new key.
        vault: How the vault is named in messages.
        values: How many values were re-encrypted.
        public_key: The new public key.
        git: What keeping the keys file and its backup out of git did.
    """

    file: Path
    keys_file: Path
    backup: Path | None
    secret: str
    vault: str
    values: int
    public_key: str
    git: GitProtection = field(default_factory=GitProtection)


def rotate_text(env: EnvFile, current: list[Decryptor], new_public_key: str) -> tuple[str, int]:
    """Return ``env`` re-encrypted for ``new_public_key``, and how many values it holds.

    Plaintext values stay as they are; the ``DOTENV_PUBLIC_KEY*`` value becomes the new
    key. Raises ``DecryptionError`` naming values no current key decrypts.
    """
    found = env.public_key()
    if found is None:
        raise FormatError(f"{env.path}: no DOTENV_PUBLIC_KEY line; encrypt the file first")
    encryptor = Encryptor(new_public_key)
    edits = []
    failed: list[str] = []
    count = 0
    for entry in env.entries:
        value = entry.value
        if entry is found[0]:
            span = env.locate(entry)
            if span is None:
                raise FormatError(f"{env.path}, line {entry.line}: cannot rewrite {entry.key}")
            edits.append((entry, span, new_public_key))
            continue
        if value is None or not is_encrypted(value):
            continue
        span = env.locate(entry)
        if span is None:
            raise FormatError(
                f"{env.path}, line {entry.line}: {entry.key} cannot be rewritten in place"
            )
        opened = decrypt_with_any(current, value)
        if opened is None:
            failed.append(entry.key)
            continue
        edits.append((entry, span, encryptor.encrypt(opened[1])))
        count += 1
    if failed:
        raise DecryptionError(
            f"{env.path}: the current key does not decrypt {', '.join(failed)}; nothing was rotated"
        )
    return env.rewrite(edits), count


def rotate_file(
    file: Path,
    target: Target,
    vaults: VaultSet,
    *,
    recover: str | None = None,
) -> RotationResult:
    """Rotate ``file``'s key pair and the vault's copy of it (see the module docstring).

    Args:
        file: The env file.
        target: Its configuration and mapping.
        vaults: The session opened for ``target.config``: the mapping's vault, and the
            verifiers asked to check the new file with the key read back.
        recover: The command that stores the local key in the vault again, for errors
            that leave the vault holding the unverified new key (default: the target's
            ``push_command`` without provider flags).

    Raises:
        RotationError: storing or verifying the new key failed; local files are untouched
            and the message says whether the vault was rolled back.
        EnvdriftError: the file or the current key is unusable (nothing changed anywhere).
    """
    check_env_file_name(file)
    mapping = target.mapping
    config = target.config
    keys_path = mapping.folder / config.env_keys_filename
    original, env = _read(file)
    ring = Keyring.gather(file, keys_file=keys_path if keys_path.exists() else None)
    found = env.public_key()
    current_public = found[1].strip().lower() if found else None
    candidates = ring.ordered_for(current_public, mapping.key_name)
    if not candidates:
        raise DecryptionError(
            f"no current private key for {file}; looked in: {'; '.join(ring.looked_at)}. "
            "Run `envdrift sync` first"
        )
    pair = generate_keypair()
    new_text, count = rotate_text(env, [Decryptor(c.key) for c in candidates], pair.public_key)
    _preflight(file, keys_path, config.root, config.allow_outside_root)

    vault, secret = vaults.for_mapping(mapping)
    where = f"secret {secret!r} in {vault.describe()}"
    if recover is None:
        recover = target.push_command(secret, vaults.registry, provider=None, flags={})
    previous: Secret | None
    try:
        previous = vault.fetch(secret)
    except NotFoundError:
        previous = None
    try:
        vault.store(secret, pair.private_key)
    except EnvdriftError as exc:
        raise RotationError(
            f"rotation stopped: {exc}. Local files were not changed and {where} keeps its value"
        ) from None
    undo = _VaultUndo(vault, secret, previous, where, recover)
    try:
        stored = normalize_private_key(vault.fetch(secret), mapping.environment, source=where)
        check = vaults.verify_decryption(file, new_text, stored)
        if check is None or not check.ok:
            reason = check.reason if check is not None else "no verifier understood the file"
            raise RotationError(
                f"the key read back from {where} does not decrypt the new file: {reason}"
            )
    except EnvdriftError as exc:
        raise RotationError(undo.roll_back(exc)) from None

    # The vault holds the new key and it is proven: swap the local files, the env file
    # first. A kill between the two writes leaves the file and the vault agreeing on
    # the new key, which `envdrift sync --force` brings into .env.keys.
    env_written = False

    def swap(keys: KeysFile) -> None:
        nonlocal env_written
        keys.set(mapping.key_name, pair.private_key, comment=file.name)
        atomic_write(file, new_text.encode("utf-8"))
        env_written = True

    try:
        update = update_keys_file(
            keys_path,
            swap,
            root=config.root,
            allow_outside_root=config.allow_outside_root,
            backup_stamp=backup_stamp(),
        )
    except (EnvdriftError, OSError) as exc:
        cause = exc if isinstance(exc, EnvdriftError) else FormatError(_os_problem(exc))
        raise RotationError(_undo_swap(file, original, env_written, undo, cause)) from None
    return RotationResult(
        file,
        keys_path,
        update.backup,
        secret,
        vault.describe(),
        count,
        pair.public_key,
        git=update.git,
    )


def _read(file: Path) -> tuple[bytes, EnvFile]:
    """The env file's bytes (to put back if the swap fails) and its parsed form."""
    try:
        original = read_limited(file, ENV_FILE_LIMIT)
    except FileNotFoundError:
        raise ConfigError(f"{file} does not exist; name an encrypted env file") from None
    except OSError:
        original = b""  # EnvFile.read names the problem
    return original, EnvFile.read(file)


def _preflight(file: Path, keys_path: Path, root: Path, allow_outside_root: bool) -> None:
    """Refuse, before the vault is touched, when either local file could not be replaced."""
    check_keys_path(keys_path, root, allow_outside_root=allow_outside_root)
    for path in (file, keys_path):
        try:
            check_replaceable(path)
        except OSError as exc:
            raise RotationError(
                f"cannot rotate {file}: {path}: {_os_problem(exc)}. Nothing was changed, "
                "in the vault or locally"
            ) from None


def _os_problem(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or type(exc).__name__}"


def _undo_swap(
    file: Path, original: bytes, env_written: bool, undo: _VaultUndo, cause: EnvdriftError
) -> str:
    """Put the env file back, then the vault; say what state things are in."""
    if env_written:
        try:
            atomic_write(file, original)
        except OSError as exc:
            return (
                f"rotation stopped: {cause}. {file} is already encrypted for the new key "
                f"and could not be put back ({_os_problem(exc)}); the new key is in "
                f"{undo.where}: run `envdrift sync --force` to bring it into the keys file"
            )
    return undo.roll_back(cause)


@dataclass(frozen=True)
class _VaultUndo:
    """How to put the vault's secret back once it holds the unverified new key."""

    vault: Vault
    secret: str
    previous: Secret | None
    where: str
    recover: str

    def roll_back(self, cause: EnvdriftError) -> str:
        """Make the previous value current again; say what happened and what is left to do."""
        head = f"rotation stopped: {cause}. Local files were not changed"
        if self.previous is None:
            return (
                f"{head}; {self.where} did not exist before and now holds the unverified new "
                f"key: delete it, or run `{self.recover}` to store the local key again"
            )
        try:
            self.vault.store(self.secret, self.previous)
        except EnvdriftError as exc:
            return (
                f"{head}; restoring the previous value of {self.where} failed too ({exc}): "
                f"run `{self.recover}` to store the local key again"
            )
        return f"{head}; the previous value of {self.where} is current again"
