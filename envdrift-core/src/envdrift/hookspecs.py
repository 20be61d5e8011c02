"""The plugin contract: every hook envdrift calls, stated once.

Plugins implement these with ``@envdrift.hookimpl`` and register through the
``envdrift`` entry-point group. Grow a hook by adding arguments (pluggy lets older
implementations ignore them); never change what an existing argument means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from envdrift.secrets import Secret
    from envdrift.vaults import Vault

__all__ = ["PROJECT_NAME", "DecryptionCheck", "hookimpl", "hookspec"]

PROJECT_NAME = "envdrift"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@dataclass(frozen=True)
class DecryptionCheck:
    """What ``envdrift_verify_decryption`` found. It never carries plaintext.

    Attributes:
        path: The env file that was checked.
        ok: ``True`` when the key matches the file and every encrypted value decrypts.
        checked: How many encrypted values were tried.
        failed: The names (keys) of the values that did not decrypt.
        key_matches: Whether the key's public key equals the file's public key
            (``None`` when the file carries no public key).
        reason: A one-line explanation when ``ok`` is false.
    """

    path: Path
    ok: bool
    checked: int = 0
    failed: tuple[str, ...] = field(default_factory=tuple)
    key_matches: bool | None = None
    reason: str = ""


@hookspec
def envdrift_register_vaults() -> list[type[Vault]]:  # type: ignore[empty-body]
    """Return the vault backends this plugin provides.

    Called once, the first time envdrift needs a vault (never at start-up). Every
    plugin's answer is collected; each ``Vault`` subclass carries its own ``name``.
    Two plugins claiming one name is an error that names both.

    Returns:
        A list of ``Vault`` subclasses (classes, not instances).
    """


@hookspec(firstresult=True)
def envdrift_verify_decryption(
    path: Path, text: str, private_key: Secret, environment: str | None
) -> DecryptionCheck | None:
    """Answer "can ``private_key`` decrypt the encrypted env file at ``path``?".

    Called by ``sync --check-decryption`` for every env file in a mapping's folder (so
    that a plugin for any format is asked), and by ``decrypt --verify-vault``,
    ``rotate`` and ``--repair`` for the file they work on. Work in memory: never write
    plaintext anywhere. The first non-``None`` answer wins, so return ``None`` for
    files that are not yours. envdrift's own dotenvx verifier is registered
    ``trylast``.

    Args:
        path: The env file, for messages.
        text: The file's content, already read.
        private_key: The candidate private key.
        environment: Set when ``path`` is a candidate found in a mapping's folder: the
            mapping's environment (``production``). Return ``None`` unless the file is
            one of that environment's encrypted files in your format. ``None`` when the
            user named the file: check it.

    Returns:
        A ``DecryptionCheck`` (never holding plaintext), or ``None`` for "not mine".
    """
