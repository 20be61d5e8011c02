"""``decrypt --verify-vault --repair``: move a stray-key file onto the vault's key, losing nothing.

A teammate without the vault's key runs ``encrypt`` and a new key pair is born: the
committed file now opens only with their stray key. The guide's repair (``git restore``,
``sync --force``, ``encrypt``) throws their edit away. When a key held here (in
``.env.keys`` or a ``DOTENV_PRIVATE_KEY*`` variable) opens the file, this does better:

1. In memory: every value the vault's key does not already open is decrypted with a
   local key and encrypted again for the vault's public key; the file's
   ``DOTENV_PUBLIC_KEY*`` becomes the vault's. Values, order, comments and the
   ciphertext of values that were already right stay as they are.
2. The verify hook proves the vault's key opens the new text; nothing is written before.
3. Through the one keys-file writer (``update_keys_file``, under its lock): the env
   file is replaced atomically, the keys file is backed up (mode 0600, ignored by git)
   and gets the vault's key. At every point the key that opened the old file is on
   disk, and the vault holds the one that opens the new file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from envdrift._fs import atomic_write, backup_stamp
from envdrift.dotenvx.crypto import (
    Decryptor,
    Encryptor,
    decrypt_with_any,
    is_encrypted,
    normalize_public_key,
)
from envdrift.dotenvx.envfile import EnvFile, read_env_text
from envdrift.dotenvx.keyring import Keyring
from envdrift.dotenvx.keysfile import KeysFile, update_keys_file
from envdrift.dotenvx.operations import check_env_file_name
from envdrift.errors import DecryptionError, EnvdriftError, FormatError
from envdrift.gitsafety import GitProtection
from envdrift.keyvalue import normalize_private_key

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.session import VaultSet
    from envdrift.targets import Target

__all__ = ["NoLocalKeyError", "RepairResult", "reencrypt_text", "repair_file"]


class NoLocalKeyError(DecryptionError):
    """No key held here opens the file: ``--repair`` cannot keep its values."""


@dataclass(frozen=True)
class RepairResult:
    """What ``repair_file`` changed (names and counts, never a value).

    Attributes:
        file: The env file.
        secret: The vault secret whose key now opens it.
        vault: How the vault is named in messages.
        reencrypted: Names of the values encrypted again, in file order.
        kept: How many encrypted values the vault's key already opened (left as they were).
        opened_with: Where the key(s) that opened the other values came from.
        public_key: The vault key's public key, now the file's ``DOTENV_PUBLIC_KEY*``.
        keys_file: The keys file that holds the vault's key.
        key_name: The name of the key in it.
        keys_changed: The keys file's key was added or replaced.
        backup: The keys file's backup, when it had one to make.
        git: What ``protect`` did for the keys file and its backup.
    """

    file: Path
    secret: str
    vault: str
    reencrypted: list[str]
    kept: int
    opened_with: list[str]
    public_key: str
    keys_file: Path
    key_name: str
    keys_changed: bool
    backup: Path | None
    git: GitProtection

    @property
    def changed(self) -> bool:
        """Anything on disk changed."""
        return bool(self.reencrypted) or self.keys_changed


@dataclass
class _Reencrypted:
    text: str
    reencrypted: list[str]
    kept: int
    used: list[Decryptor]


def reencrypt_text(env: EnvFile, vault: Decryptor, local: list[Decryptor]) -> _Reencrypted:
    """Return ``env`` with every value encrypted for ``vault``'s public key.

    Values ``vault`` already opens keep their ciphertext; the others are decrypted with
    the first of ``local`` that opens them and encrypted again. The file's public-key
    line gets ``vault``'s public key.

    Raises:
        NoLocalKeyError: some values open with no key given (named; nothing changes).
        FormatError: the file has no ``DOTENV_PUBLIC_KEY*`` line, or a value cannot be
            rewritten in place.
    """
    found = env.public_key()
    if found is None:
        raise FormatError(f"{env.path}: no DOTENV_PUBLIC_KEY line; this is not an encrypted file")
    encryptor = Encryptor(vault.public_key)
    edits = []
    failed: list[str] = []
    result = _Reencrypted("", [], 0, [])
    for entry in env.entries:
        value = entry.value
        is_key_line = entry is found[0]
        if not is_key_line and (value is None or not is_encrypted(value)):
            continue
        span = env.locate(entry)
        if span is None:
            raise FormatError(
                f"{env.path}, line {entry.line}: {entry.key} cannot be rewritten in place"
            )
        if is_key_line:
            if value is None or _normalized(value) != vault.public_key:
                edits.append((entry, span, vault.public_key))
            continue
        assert value is not None
        try:
            vault_opens = decrypt_with_any([vault], value) is not None
        except FormatError as exc:
            raise FormatError(f"{env.path}, line {entry.line}: {entry.key} holds a {exc}") from None
        if vault_opens:
            result.kept += 1
            continue
        opened = decrypt_with_any(local, value)
        if opened is None:
            failed.append(entry.key)
            continue
        index, plaintext = opened
        edits.append((entry, span, encryptor.encrypt(plaintext)))
        result.reencrypted.append(entry.key)
        if local[index] not in result.used:
            result.used.append(local[index])
    if failed:
        raise NoLocalKeyError(
            f"no key held here opens {', '.join(dict.fromkeys(failed))} in {env.path}"
        )
    result.text = env.rewrite(edits)
    return result


def _normalized(public_key: str) -> str | None:
    try:
        return normalize_public_key(public_key)
    except FormatError:
        return None


def repair_file(file: Path, target: Target, vaults: VaultSet) -> RepairResult:
    """Re-encrypt ``file`` for the vault's key of ``target`` and store that key locally.

    ``vaults`` is the session opened for ``target.config``; the caller closes it.

    Raises:
        NoLocalKeyError: no key held here opens some value; nothing was changed.
        EnvdriftError: the file, the vault or the key is unusable, or the new text does
            not verify; nothing was changed.
    """
    check_env_file_name(file)
    try:
        env = EnvFile(read_env_text(file), file)
    except FileNotFoundError:
        raise FormatError(f"{file}: no such file") from None
    mapping = target.mapping
    vault, secret = vaults.for_mapping(mapping)
    where = f"secret {secret!r} in {vault.describe()}"
    vault_key = normalize_private_key(vault.fetch(secret), mapping.environment, source=where)
    keys_path = mapping.folder / target.config.env_keys_filename
    ring = Keyring.gather(file, keys_file=keys_path if keys_path.exists() else None)
    found = env.public_key()
    candidates = ring.ordered_for(found[1].strip().lower() if found else None, mapping.key_name)
    local = [Decryptor(c.key) for c in candidates]
    done = reencrypt_text(env, Decryptor(vault_key), local)
    check = vaults.verify_decryption(file, done.text, vault_key)
    if check is None or not check.ok:
        reason = check.reason if check is not None else "no verifier understood the file"
        raise EnvdriftError(
            f"the repaired {file} does not verify with the key in {where}: {reason}; "
            "nothing was changed"
        )
    opened_with = [candidates[local.index(d)].label for d in done.used]
    config = target.config

    def swap(keys: KeysFile) -> bool:
        # Under the writers' lock. The env file goes first: should the keys file then
        # fail, the file opens with the vault's key (`envdrift sync --force` fetches it)
        # and the key that opened the old file is still in .env.keys.
        current = keys.get(mapping.key_name)
        if done.text != env.text:
            atomic_write(file, done.text.encode("utf-8"))  # UTF-8, as encrypt writes
        if current is not None and current.reveal().strip().lower() == vault_key.reveal():
            return False
        keys.set(mapping.key_name, vault_key, comment=file.name)
        return True

    update = update_keys_file(
        keys_path,
        swap,
        root=config.root,
        allow_outside_root=config.allow_outside_root,
        backup_stamp=backup_stamp(),
    )
    return RepairResult(
        file=file,
        secret=secret,
        vault=vault.describe(),
        reencrypted=done.reencrypted,
        kept=done.kept,
        opened_with=opened_with,
        public_key=Decryptor(vault_key).public_key,
        keys_file=keys_path,
        key_name=mapping.key_name,
        keys_changed=update.value,
        backup=update.backup,
        git=update.git,
    )
