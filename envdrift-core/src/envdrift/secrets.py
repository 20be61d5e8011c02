"""``Secret``: a value that never shows itself by accident."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

__all__ = ["Secret", "scrub"]

# A private key is 64 hex digits in every form a vault may hold it (bare, labelled,
# JSON, a whole .env.keys); ciphertexts are long base64 runs.
_SECRET_SHAPED = re.compile(r"[0-9a-fA-F]{32,}|encrypted:[A-Za-z0-9+/=]+|[A-Za-z0-9+/]{80,}=*")
_SCRUB_LIMIT = 300


def scrub(text: str, *, keep_end: bool = False) -> str:
    """``text`` from outside envdrift (an SDK's message), with key-shaped runs masked.

    For messages envdrift did not write itself and so cannot vouch for: an SDK may
    echo a response body. Long messages are cut short, after masking (so a cut never
    leaves part of a key unmasked); ``keep_end`` keeps their end instead of their start
    (a program's stderr says what went wrong last).
    """
    masked = _SECRET_SHAPED.sub("***", text)
    if len(masked) > _SCRUB_LIMIT:
        if keep_end:
            masked = "…" + masked[len(masked) - _SCRUB_LIMIT + 1 :]
        else:
            masked = masked[: _SCRUB_LIMIT - 1] + "…"
    return masked


class Secret:
    """A secret value whose ``repr`` and ``str`` print ``***``.

    ``reveal()`` is the only way to read the value. Equality compares values in constant
    time, so two secrets can be compared without revealing either.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret value must be str, not {type(value).__name__}")
        self._value: Final = value

    def reveal(self) -> str:
        """Return the secret value itself."""
        return self._value

    def redacted(self, salt: bytes) -> str:
        """Return ``<redacted len=N sha=XXXXXXXX>``, a fingerprint salted per run.

        The salt makes fingerprints comparable within one run (did this value change?)
        but useless for guessing the value across runs.
        """
        digest = hmac.new(salt, self._value.encode(), hashlib.sha256).hexdigest()[:8]
        return f"<redacted len={len(self._value)} sha={digest}>"

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", hashlib.sha256(self._value.encode()).digest()))

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, format_spec: str) -> str:
        return "***"

    def __reduce__(self) -> str:
        # Pickling would be a way to smuggle the value into logs or caches.
        raise TypeError("Secret values cannot be pickled")
