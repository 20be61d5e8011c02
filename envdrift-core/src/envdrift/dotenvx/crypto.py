"""dotenvx's value encryption: secp256k1 ECIES with AES-256-GCM, byte-compatible.

An encrypted value is ``"encrypted:" + base64(E ‖ N ‖ T ‖ C)``: E the 65-byte
uncompressed ephemeral public key, N a 16-byte nonce, T the 16-byte GCM tag, C the
ciphertext. The AES key is HKDF-SHA256 (no salt, no info) over E followed by the
uncompressed shared point. These are eciesjs's defaults, which dotenvx never changes.

Why coincurve (libsecp256k1) and ``cryptography``: one decrypt costs about 37 µs against
159 µs for eciespy and 380 µs for ``cryptography`` alone (whose ECDH returns only the X
coordinate, while the format hashes the full point). ``cryptography`` provides AES-GCM
with the 16-byte nonce; HKDF is two HMACs from the standard library.

We read keys and ciphertexts as leniently as dotenvx (hex in any case, trailing junk
after a private key, URL-safe or unpadded Base64, invalid UTF-8 as U+FFFD) and write
only the canonical forms.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envdrift.errors import DecryptionError, FormatError
from envdrift.secrets import Secret

if TYPE_CHECKING:
    from collections.abc import Sequence

    import coincurve

__all__ = [
    "ENCRYPTED_PREFIX",
    "Decryptor",
    "Encryptor",
    "KeyPair",
    "decrypt_value",
    "decrypt_with_any",
    "encrypt_value",
    "generate_keypair",
    "is_encrypted",
    "normalize_public_key",
    "public_key_of",
]

#: Every encrypted value starts with this.
ENCRYPTED_PREFIX = "encrypted:"

_EPHEMERAL_LEN = 65
_NONCE_LEN = 16
_TAG_LEN = 16
_HEADER_LEN = _EPHEMERAL_LEN + _NONCE_LEN + _TAG_LEN
_ZERO_SALT = bytes(32)  # RFC 5869: "no salt" means HashLen zero bytes

_LEADING_HEX = re.compile(r"[0-9a-fA-F]*")
_PUBLIC_KEY_HEX = re.compile(r"(?:0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


@dataclass(frozen=True)
class KeyPair:
    """A dotenvx key pair.

    Attributes:
        private_key: 64 lowercase hex characters.
        public_key: The compressed public key, 66 lowercase hex characters.
    """

    private_key: Secret
    public_key: str


def is_encrypted(value: str) -> bool:
    """Whether ``value`` is a dotenvx ciphertext (starts with ``encrypted:``)."""
    return value.startswith(ENCRYPTED_PREFIX)


def generate_keypair() -> KeyPair:
    """Return a fresh random key pair."""
    import coincurve

    key = coincurve.PrivateKey()
    return KeyPair(Secret(key.secret.hex()), key.public_key.format(compressed=True).hex())


def _private_key_bytes(private_key: Secret) -> bytes:
    """Parse a private key as dotenvx does: leading hex digits, exactly 32 bytes of them.

    dotenvx stops at the first non-hex character, so trailing blanks or junk are
    harmless; we also forgive surrounding whitespace. Range is checked by the caller.
    """
    text = private_key.reveal().strip()
    digits = _LEADING_HEX.match(text)
    hex_part = digits.group(0) if digits else ""
    if len(hex_part) != 64:
        raise FormatError(
            f"malformed private key: expected 64 hex characters, found {len(hex_part)}"
        )
    return bytes.fromhex(hex_part)


def _load_private_key(private_key: Secret) -> coincurve.PrivateKey:
    import coincurve

    raw = _private_key_bytes(private_key)
    try:
        return coincurve.PrivateKey(raw)
    except ValueError:
        raise FormatError(
            "malformed private key: not a valid secp256k1 scalar (zero or above the order)"
        ) from None


def public_key_of(private_key: Secret) -> str:
    """Return the compressed public key (66 lowercase hex) of ``private_key``.

    Raises:
        FormatError: the key is not 64 hex characters or not a valid scalar.
    """
    return _load_private_key(private_key).public_key.format(compressed=True).hex()


def _load_public_key(public_key: str) -> coincurve.PublicKey:
    import coincurve

    text = public_key.strip()
    if not _PUBLIC_KEY_HEX.fullmatch(text):
        raise FormatError(
            "malformed public key: expected 66 hex characters starting 02/03 (or 130 starting 04)"
        )
    try:
        return coincurve.PublicKey(bytes.fromhex(text))
    except ValueError:
        raise FormatError("malformed public key: not a point on secp256k1") from None


def normalize_public_key(public_key: str) -> str:
    """Return ``public_key`` (compressed or not, any case) as 66 lowercase hex.

    Raises:
        FormatError: not a well-formed secp256k1 public key.
    """
    return _load_public_key(public_key).format(compressed=True).hex()


def _derive_key(ephemeral: bytes, shared: bytes) -> bytes:
    # HKDF-SHA256 with L = 32 = HashLen: extract, then a single expand block.
    prk = hmac.digest(_ZERO_SALT, ephemeral + shared, hashlib.sha256)
    return hmac.digest(prk, b"\x01", hashlib.sha256)


def _decode_base64(text: str) -> bytes:
    # As lenient as Node's Buffer.from(s, "base64"): URL-safe alphabet, whitespace and
    # missing padding are all accepted.
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/").rstrip("=")
    if _NOT_BASE64.search(cleaned) or len(cleaned) % 4 == 1:
        raise FormatError("malformed encrypted value: not valid Base64")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except binascii.Error:  # pragma: no cover - the checks above exclude every case
        raise FormatError("malformed encrypted value: not valid Base64") from None


class Encryptor:
    """Encrypts values for one public key (parsed once, reused for every value).

    Args:
        public_key: The recipient's public key, compressed or uncompressed hex.

    Raises:
        FormatError: the public key is malformed.
    """

    def __init__(self, public_key: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._recipient = _load_public_key(public_key)
        self._aesgcm = AESGCM
        self.public_key = self._recipient.format(compressed=True).hex()

    def encrypt(self, plaintext: str) -> str:
        """Return ``encrypted:…`` for ``plaintext`` (fresh ephemeral key and nonce)."""
        import coincurve

        while True:
            # A random 32-byte string is a valid scalar but for odds of about 2^-128;
            # from_secret checks, and PrivateKey() would cost a second multiplication.
            scalar = os.urandom(32)
            try:
                ephemeral_point = coincurve.PublicKey.from_secret(scalar)
            except ValueError:  # pragma: no cover - astronomically unlikely
                continue
            break
        ephemeral = ephemeral_point.format(compressed=False)
        shared = self._recipient.multiply(scalar).format(compressed=False)
        nonce = os.urandom(_NONCE_LEN)
        sealed = self._aesgcm(_derive_key(ephemeral, shared)).encrypt(
            nonce, plaintext.encode("utf-8"), None
        )
        # cryptography appends the tag; the format puts it before the ciphertext.
        payload = ephemeral + nonce + sealed[-_TAG_LEN:] + sealed[:-_TAG_LEN]
        return ENCRYPTED_PREFIX + base64.b64encode(payload).decode("ascii")


class Decryptor:
    """Decrypts values with one private key (parsed once, reused for every value).

    Args:
        private_key: 64 hex characters (any case; trailing junk ignored, as dotenvx does).

    Raises:
        FormatError: the private key is malformed.
    """

    def __init__(self, private_key: Secret) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._secret = _load_private_key(private_key).secret
        self._aesgcm = AESGCM

    def __repr__(self) -> str:
        return "Decryptor(***)"

    @property
    def public_key(self) -> str:
        """The compressed public key that belongs to this private key."""
        import coincurve

        return coincurve.PrivateKey(self._secret).public_key.format(compressed=True).hex()

    def decrypt(self, value: str) -> str:
        """Return the plaintext of ``value`` (``encrypted:…``).

        Raises:
            FormatError: ``value`` is not a well-formed dotenvx ciphertext.
            DecryptionError: the key is not the one the value was encrypted for (or the
                value was tampered with; GCM cannot tell the two apart).
        """
        import coincurve
        from cryptography.exceptions import InvalidTag

        if not is_encrypted(value):
            raise FormatError("malformed encrypted value: missing 'encrypted:' prefix")
        payload = _decode_base64(value[len(ENCRYPTED_PREFIX) :])
        if len(payload) < _HEADER_LEN:
            raise FormatError(
                f"malformed encrypted value: {len(payload)} bytes, at least {_HEADER_LEN} needed"
            )
        ephemeral = payload[:_EPHEMERAL_LEN]
        nonce = payload[_EPHEMERAL_LEN : _EPHEMERAL_LEN + _NONCE_LEN]
        tag = payload[_EPHEMERAL_LEN + _NONCE_LEN : _HEADER_LEN]
        body = payload[_HEADER_LEN:]
        try:
            point = coincurve.PublicKey(ephemeral)
        except ValueError:
            raise FormatError(
                "malformed encrypted value: its ephemeral key is not a secp256k1 point"
            ) from None
        if ephemeral[0] != 4:
            # eciesjs hashes the uncompressed form, whatever form E arrived in.
            ephemeral = point.format(compressed=False)
        shared = point.multiply(self._secret).format(compressed=False)
        try:
            plain = self._aesgcm(_derive_key(ephemeral, shared)).decrypt(nonce, body + tag, None)
        except InvalidTag:
            raise DecryptionError("wrong private key (or the value was altered)") from None
        return plain.decode("utf-8", errors="replace")


def encrypt_value(public_key: str, plaintext: str) -> str:
    """Encrypt one value for ``public_key``; see ``Encryptor`` for many values."""
    return Encryptor(public_key).encrypt(plaintext)


def decrypt_value(private_key: Secret, value: str) -> str:
    """Decrypt one ``encrypted:…`` value; see ``Decryptor`` for many values."""
    return Decryptor(private_key).decrypt(value)


def decrypt_with_any(decryptors: Sequence[Decryptor], value: str) -> tuple[int, str] | None:
    """Try ``decryptors`` in order on ``value``: the index of the first that opens it and
    the plaintext, or ``None`` when none does.

    Raises:
        FormatError: ``value`` is not a well-formed dotenvx ciphertext.
    """
    for index, decryptor in enumerate(decryptors):
        try:
            return index, decryptor.decrypt(value)
        except DecryptionError:
            continue
    return None
