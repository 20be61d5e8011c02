"""envdrift's dotenvx decryption verifier, registered like any third-party plugin.

It answers ``envdrift_verify_decryption`` for files in dotenvx's format and ``None``
for anything else, and is registered ``trylast`` so a plugin for another format (or a
stricter dotenvx check) is asked first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envdrift import hookimpl

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift import DecryptionCheck, Secret


@hookimpl(trylast=True)
def envdrift_verify_decryption(
    path: Path, text: str, private_key: Secret, environment: str | None
) -> DecryptionCheck | None:
    """Check ``private_key`` against a dotenvx-encrypted file, in memory.

    A candidate from a mapping's folder (``environment`` set) is ours only when it
    declares that environment's ``DOTENV_PUBLIC_KEY_<ENV>``.
    """
    from envdrift.dotenvx.verify import verify_decryption

    return verify_decryption(path, text, private_key, environment=environment)
