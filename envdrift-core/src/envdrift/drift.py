"""``decrypt --verify-vault``: does the vault's key decrypt the committed env file?

The key is fetched, normalised exactly as ``sync`` does, and handed to the
``envdrift_verify_decryption`` hook together with the file's text. Everything happens in
memory: the file is never written and no plaintext is kept.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envdrift.dotenvx.envfile import read_env_text
from envdrift.errors import ConfigError, FormatError
from envdrift.keyvalue import normalize_private_key

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.hookspecs import DecryptionCheck
    from envdrift.secrets import Secret
    from envdrift.session import VaultSet
    from envdrift.targets import Target

__all__ = [
    "VaultVerification",
    "committed_verifies",
    "repair_steps",
    "restore_warning",
    "verify_vault",
]


@dataclass(frozen=True)
class VaultVerification:
    """The answer for one file.

    Attributes:
        file: The env file, as the user named it.
        secret: The secret the key came from.
        vault: How the vault is named in messages.
        environment: The environment of the key (``DOTENV_PRIVATE_KEY_<ENV>``).
        check: The hook's answer.
    """

    file: Path
    secret: str
    vault: str
    environment: str
    check: DecryptionCheck

    @property
    def ok(self) -> bool:
        """The vault's key decrypts every encrypted value of the file."""
        return self.check.ok

    def explain(self) -> str:
        """One line: what failed, in terms of keys and value names only."""
        check = self.check
        if check.key_matches is False:
            return (
                f"{self.file} was encrypted with a different key than the one in "
                f"{self.vault} (secret {self.secret!r}): {check.reason}"
            )
        return (
            f"the key in {self.vault} (secret {self.secret!r}) cannot decrypt "
            f"{self.file}: {check.reason}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (no key, no plaintext)."""
        return {
            "file": str(self.file),
            "secret": self.secret,
            "vault": self.vault,
            "environment": self.environment,
            "ok": self.ok,
            "checked": self.check.checked,
            "failed": list(self.check.failed),
            "key_matches": self.check.key_matches,
            "reason": self.check.reason,
        }


def verify_vault(file: Path, target: Target, vaults: VaultSet) -> VaultVerification:
    """Fetch the target's key and check, in memory, that it decrypts ``file``.

    ``vaults`` is the session opened for ``target.config``; the caller closes it.

    Raises:
        envdrift.EnvdriftError: the file cannot be read, the secret cannot be fetched or is not
            a private key, or no verifier understands the file.
    """
    try:
        text = read_env_text(file)  # as decrypt reads it: size-limited, UTF-16 too
    except FileNotFoundError:
        raise FormatError(f"{file}: no such file") from None
    mapping = target.mapping
    vault, secret = vaults.for_mapping(mapping)
    key = _vault_key(target, vaults)
    check = vaults.verify_decryption(file, text, key)
    if check is None:
        raise ConfigError(
            f"{file} holds no encrypted values and no DOTENV_PUBLIC_KEY: nothing to verify "
            f"(encrypt it first: envdrift encrypt {shlex.quote(str(file))})"
        )
    return VaultVerification(file, secret, vault.describe(), mapping.environment, check)


def committed_verifies(file: Path, target: Target, vaults: VaultSet) -> bool | None:
    """Whether the vault's key opens ``file`` as git last committed it (``HEAD``).

    The guide's repair starts with ``git restore``: it helps only when this is true.
    ``None`` when there is no committed version to ask about (no git, not committed).
    """
    from envdrift.gitsafety import committed_text

    text = committed_text(file)
    if text is None:
        return None
    check = vaults.verify_decryption(file, text, _vault_key(target, vaults))
    return None if check is None else check.ok


def _vault_key(target: Target, vaults: VaultSet) -> Secret:
    """The target's key, fetched and normalised as ``sync`` does."""
    vault, secret = vaults.for_mapping(target.mapping)
    source = f"secret {secret!r} in {vault.describe()}"
    return normalize_private_key(vault.fetch(secret), target.mapping.environment, source=source)


def repair_steps(file: Path, target: Target, sync: str) -> list[str]:
    """The user guide's three repair commands, filled in for this file and config.

    ``sync`` is the ``envdrift sync --force`` command for the target
    (``Target.sync_command``); without a configuration file it gets a note saying which
    mapping it needs.
    """
    quoted = shlex.quote(str(file))
    if not target.config_found:
        from envdrift._install import docs_url

        mapping = target.mapping
        sync += (
            f"   (needs an envdrift.toml mapping secret_name = {mapping.secret_name!r}, "
            f"folder_path = {mapping.folder_path!r}; see {docs_url('configuration')})"
        )
    return [f"git restore {quoted}", sync, f"envdrift encrypt {quoted}"]


def restore_warning(file: Path) -> str:
    """What step 1 of ``repair_steps`` costs, and how to keep it, said before the steps."""
    quoted = shlex.quote(str(file))
    return (
        f"step 1 discards every uncommitted change to {file}. To keep them, copy it aside "
        f"first (cp {quoted} {shlex.quote(str(file) + '.mine')}), or have whoever encrypted "
        "it last run the --repair command: their key opens it and every value is kept"
    )
