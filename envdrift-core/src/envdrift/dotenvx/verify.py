"""Can this private key decrypt this dotenvx file? Answered in memory, never in plaintext.

This is the logic behind envdrift's built-in ``envdrift_verify_decryption`` hook: it
checks that the key's public key equals the file's ``DOTENV_PUBLIC_KEY*`` and that every
encrypted value decrypts, and reports counts and names only.
"""

from __future__ import annotations

import re
from pathlib import Path

from envdrift.dotenvx.crypto import Decryptor, is_encrypted, normalize_public_key
from envdrift.dotenvx.envfile import EnvFile
from envdrift.dotenvx.suffix import PUBLIC_KEY_NAME, key_name
from envdrift.errors import DecryptionError, FormatError
from envdrift.hookspecs import DecryptionCheck
from envdrift.secrets import Secret

__all__ = ["declares_environment", "verify_decryption"]


def declares_environment(text: str, environment: str) -> bool:
    """Whether ``text`` assigns ``DOTENV_PUBLIC_KEY_<ENVIRONMENT>`` on a line of its own."""
    name = re.escape(key_name(PUBLIC_KEY_NAME, environment))
    return (
        re.search(rf"^[ \t\ufeff]*(?:export[ \t]+)?{name}[ \t]*=", text, re.MULTILINE) is not None
    )


def verify_decryption(
    path: Path, text: str, private_key: Secret, *, environment: str | None = None
) -> DecryptionCheck | None:
    """Check ``private_key`` against the dotenvx file ``path`` whose content is ``text``.

    Args:
        path: The file, for messages.
        text: Its content.
        private_key: The key to check.
        environment: For a candidate found in a mapping's folder: the file is checked
            only when it declares this environment's ``DOTENV_PUBLIC_KEY_<ENV>``.

    Returns:
        ``None`` when the file is not a dotenvx file (no encrypted value and no
        well-formed ``DOTENV_PUBLIC_KEY*``) or, with ``environment``, not one of that
        environment's; otherwise a ``DecryptionCheck`` whose ``failed`` names the values
        that did not decrypt. Plaintext is discarded at once.
    """
    if environment is not None and not declares_environment(text, environment):
        return None
    env = EnvFile(text, path)
    found = env.public_key()
    encrypted = [e for e in env.entries if e.value is not None and is_encrypted(e.value)]
    if not encrypted and (found is None or not _is_public_key(found[1])):
        # Nothing encrypted and no usable public key: not (yet) a dotenvx file.
        return None
    try:
        decryptor = Decryptor(private_key)
    except FormatError as exc:
        return DecryptionCheck(path, ok=False, reason=f"the key is not usable: {exc}")
    key_matches: bool | None = None
    reasons: list[str] = []
    if found is not None:
        entry, value = found
        try:
            key_matches = normalize_public_key(value) == decryptor.public_key
        except FormatError as exc:
            key_matches = False
            reasons.append(f"line {entry.line}: {entry.key} is a {exc}")
        else:
            if not key_matches:
                reasons.append(
                    f"the key's public key {decryptor.public_key[:8]}… does not match "
                    f"{entry.key} {value.strip()[:8]}… (line {entry.line})"
                )
    failed: list[str] = []
    for entry in encrypted:
        assert entry.value is not None
        try:
            decryptor.decrypt(entry.value)
        except (DecryptionError, FormatError):
            failed.append(entry.key)
    if failed:
        reasons.append(
            f"{len(failed)} of {len(encrypted)} encrypted values did not decrypt: "
            + ", ".join(dict.fromkeys(failed))
        )
    return DecryptionCheck(
        path,
        ok=not reasons,
        checked=len(encrypted),
        failed=tuple(failed),
        key_matches=key_matches,
        reason="; ".join(reasons),
    )


def _is_public_key(value: str) -> bool:
    try:
        normalize_public_key(value)
    except FormatError:
        return False
    return True
