"""From a vault value to a dotenvx private key: the one place that knows the accepted shapes.

Teams store the key in their vault in whatever form their first script produced. Every
command that reads a key from a vault (``sync``, ``decrypt --verify-vault``) passes the
value through ``normalize_private_key``, which accepts:

* a bare key: 64 hexadecimal characters (either case; returned in lower case);
* a ``DOTENV_PRIVATE_KEY_<ENV>=<key>`` line, the value quoted or not, ``export`` allowed;
* any of these with surrounding whitespace or wrapped in one layer of quotes;
* JSON: ``{"value": "<key>"}`` or ``{"DOTENV_PRIVATE_KEY_<ENV>": "<key>"}``;
* a whole ``.env.keys`` file (header comments, several environments).

A value labelled for another environment is refused for this one, and a value that is
none of these is a ``FormatError`` that describes its shape, never its content.
"""

from __future__ import annotations

import re

from envdrift.dotenvx.suffix import PRIVATE_KEY_NAME, key_name
from envdrift.errors import FormatError
from envdrift.secrets import Secret, scrub

__all__ = ["is_private_key", "normalize_private_key", "private_key_name", "public_fingerprint"]

#: The longest value examined (characters): a whole .env.keys with many environments
#: fits many times over.
MAX_VALUE_LENGTH = 64 << 10

#: The order n of secp256k1's group: a private key is a scalar 0 < d < n.
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_ASSIGNMENT = re.compile(r"(?:export\s+)?([A-Za-z0-9_.-]+)\s*=(.*)")
_LABEL = re.compile(rf"{PRIVATE_KEY_NAME}[A-Z0-9_-]*")
_LABEL_SHOWN = 64  # longer labels are not quoted in messages
_QUOTES = "\"'`"
#: Python's str.strip() keeps U+FEFF; a BOM pasted into a vault is still whitespace to us.
_BLANK = " \t\r\n\v\f\ufeff\u00a0"


def private_key_name(environment: str) -> str:
    """Return ``DOTENV_PRIVATE_KEY_<ENVIRONMENT>`` (``DOTENV_PRIVATE_KEY`` for ``""``)."""
    return key_name(PRIVATE_KEY_NAME, environment)


def is_private_key(text: str) -> bool:
    """Whether ``text`` is exactly a valid private key: 64 hex characters, 0 < d < n."""
    return bool(_HEX64.fullmatch(text)) and 0 < int(text, 16) < _CURVE_ORDER


#: Hex digits of the public key shown by ``public_fingerprint``: ``02``/``03`` and ten more.
PUBLIC_PREFIX_LENGTH = 12


def public_fingerprint(private_key: Secret) -> str | None:
    """Return the first hex digits of ``private_key``'s public key, e.g. ``03a1b2c3d4e5``.

    Safe to print: the public key is public by design (every encrypted env file commits
    it as ``DOTENV_PUBLIC_KEY_<ENV>``) and says nothing about the private key, so the
    prefix is the same in every run, on every teammate's machine and in the file's own
    header. ``None`` when the value is not a usable private key.
    """
    if not is_private_key(private_key.reveal()):
        return None
    from envdrift.dotenvx.crypto import public_key_of

    return public_key_of(private_key)[:PUBLIC_PREFIX_LENGTH]


def normalize_private_key(value: Secret, environment: str, *, source: str) -> Secret:
    """Return the private key for ``environment`` held in ``value``, as 64 lower-case hex.

    Args:
        value: What the vault returned.
        environment: The mapping's environment (``production`` for
            ``DOTENV_PRIVATE_KEY_PRODUCTION``).
        source: Names the value in messages, e.g. ``secret 'app-key' in vault 'aws'``.

    Raises:
        FormatError: the value is labelled for another environment, or is not a private
            key in any accepted shape. The message never contains the value.
    """
    wanted = private_key_name(environment)
    if len(value) > MAX_VALUE_LENGTH:
        # Whatever it is, it is not a key: refuse it before any parsing (or regex) runs.
        raise FormatError(
            f"{source} is {_size(len(value))}, far too long for a private key (at most "
            f"{_size(MAX_VALUE_LENGTH)} is read); store the {wanted} value alone"
        )
    return Secret(_extract(value.reveal(), wanted, source, allow_json=True))


def _size(count: int) -> str:
    if count >= 1 << 20:
        return f"{count / (1 << 20):.1f} MiB"
    if count >= 1 << 10:
        return f"{count / (1 << 10):.1f} KiB"
    return f"{count} characters"


def _extract(text: str, wanted: str, source: str, *, allow_json: bool) -> str:
    text = text.strip(_BLANK)
    if not text:
        raise FormatError(f"{source} is empty; store the {wanted} value (64 hex characters)")
    if text.startswith(("{", "[")):
        if not allow_json:
            raise FormatError(f"{source}: JSON inside JSON is not accepted; store the key itself")
        return _from_json(text, wanted, source)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        text = text[1:-1].strip(_BLANK)
    if _HEX64.fullmatch(text):
        return _checked(text, wanted, source)
    lines = text.splitlines()
    found: list[str] = []
    labels: list[str] = []
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip(_BLANK)
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(stripped)
        if match is None:
            if len(lines) == 1:
                raise FormatError(f"{source}: {_shape(text)}; {_EXPECTED.format(wanted=wanted)}")
            raise FormatError(
                f"{source}: line {lineno} of the value is neither a comment nor NAME=value; "
                f"{_EXPECTED.format(wanted=wanted)}"
            )
        name, raw = match.group(1), match.group(2)
        if name.upper() == wanted:
            found.append(_assigned_value(raw))
        elif _LABEL.fullmatch(name.upper()):
            labels.append(name)
    if not found:
        if labels:
            raise FormatError(
                f"{source} holds {_named(labels)}, not {wanted}; "
                "it belongs to another environment: fix the mapping's environment or secret"
            )
        raise FormatError(
            f"{source}: NAME=value lines without {wanted}; {_EXPECTED.format(wanted=wanted)}"
        )
    keys = {key.lower() for key in found}
    if len(keys) > 1:
        raise FormatError(
            f"{source} holds {len(keys)} different values for {wanted}; keep only the current one"
        )
    return _checked(found[0], wanted, source)


def _from_json(text: str, wanted: str, source: str) -> str:
    import json  # most vaults hold the bare key: only a JSON-shaped value needs it

    try:
        document = json.loads(text)
    except ValueError as exc:
        # JSONDecodeError.msg and position describe the syntax, never the content.
        where = getattr(exc, "pos", None)
        at = f" at character {where}" if where is not None else ""
        reason = getattr(exc, "msg", "invalid JSON")
        raise FormatError(f"{source} looks like JSON but does not parse ({reason}{at})") from None
    if not isinstance(document, dict):
        raise FormatError(
            f"{source}: {_EXPECTED.format(wanted=wanted)}; got a JSON {type(document).__name__}"
        )
    by_upper = {str(k).upper(): v for k, v in document.items()}
    candidates = [document[k] for k in ("value",) if k in document]
    if wanted in by_upper:
        candidates.append(by_upper[wanted])
    if not candidates:
        labels = [k for k in document if isinstance(k, str) and _LABEL.fullmatch(k.upper())]
        if labels:
            raise FormatError(
                f"{source} holds {_named(labels)}, not {wanted}; it belongs to another "
                "environment: fix the mapping's environment or secret"
            )
        raise FormatError(
            f"{source} is a JSON object without a 'value' or '{wanted}' field; "
            f"{_EXPECTED.format(wanted=wanted)}"
        )
    keys = []
    for candidate in candidates:
        if not isinstance(candidate, str):
            raise FormatError(
                f"{source}: the JSON field holding the key must be a string, "
                f"not {type(candidate).__name__}"
            )
        keys.append(_extract(candidate, wanted, source, allow_json=False))
    if len(set(keys)) > 1:
        raise FormatError(f"{source}: the JSON fields 'value' and '{wanted}' disagree")
    return keys[0]


def _named(labels: list[str]) -> str:
    """The labels found, for a message: they are part of the vault value, so a label that
    does not look like a variable name (too long, or holding a key-like run) is not quoted.
    """
    shown = [
        label
        if len(label) <= _LABEL_SHOWN and scrub(label) == label
        else "a DOTENV_PRIVATE_KEY… label"
        for label in labels
    ]
    return ", ".join(dict.fromkeys(shown))


def _assigned_value(raw: str) -> str:
    # dotenv rules: a quoted value ends at its closing quote; an unquoted one at '#'.
    raw = raw.strip(_BLANK)
    if raw and raw[0] in _QUOTES:
        end = raw.find(raw[0], 1)
        if end != -1:
            return raw[1:end].strip(_BLANK)
        return raw[1:].strip(_BLANK)
    return raw.split("#", 1)[0].strip(_BLANK)


def _checked(key: str, wanted: str, source: str) -> str:
    if not _HEX64.fullmatch(key):
        raise FormatError(f"{source}: {_shape(key)}; {_EXPECTED.format(wanted=wanted)}")
    if not 0 < int(key, 16) < _CURVE_ORDER:
        raise FormatError(
            f"{source}: 64 hex characters, but not a valid secp256k1 private key (out of range)"
        )
    return key.lower()


_EXPECTED = (
    "expected a dotenvx private key: 64 hex characters, a {wanted}=… line, "
    'JSON {{"value": …}} or a .env.keys file'
)


def _shape(text: str) -> str:
    """Describe what ``text`` looks like without revealing it (lengths and kinds only)."""
    if "," in text and all(_HEX64.fullmatch(p.strip(_BLANK)) for p in text.split(",")):
        return "a comma-separated list of keys (dotenvx 1.x rotation); store only the current key"
    if _HEX.fullmatch(text):
        if len(text) == 66 and text[:2] in {"02", "03"}:
            return "a public key (66 hex characters starting 02/03), not the private key"
        return f"{len(text)} hex characters, not 64"
    if text[:2].lower() == "0x" and _HEX.fullmatch(text[2:]):
        return f"hex with a 0x prefix ({len(text) - 2} digits); store the 64 digits alone"
    if len(text) == 64:
        return "64 characters, but not all hexadecimal"
    return f"a {len(text)}-character value that is not a key"
