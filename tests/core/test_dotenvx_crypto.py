"""The ECIES value format: round trips, known vectors, leniency and malformed input."""

from __future__ import annotations

import base64
import re

import pytest
from envdrift.dotenvx.crypto import (
    ENCRYPTED_PREFIX,
    Decryptor,
    Encryptor,
    decrypt_value,
    encrypt_value,
    generate_keypair,
    is_encrypted,
    normalize_public_key,
    public_key_of,
)
from envdrift.errors import DecryptionError, FormatError
from envdrift.secrets import Secret

# A throwaway pair and a value written by the real dotenvx 2.38.2 (`dotenvx encrypt` of
# HELLO="wörld 🔑"): the format is pinned by an outside implementation even where the
# dotenvx CLI is not installed.
DOTENVX_PRIVATE = "9fe9345d1f344294f3c1ddcec8344445bb04398bca6fcc9af3c049af5a395fad"
DOTENVX_PUBLIC = "02bf55d651c08376ffa7e650ce0d66e78bf9a1baef23a49d7db05a3f58df06a703"
DOTENVX_VALUE = (
    "encrypted:BFCB8GTV699tnENVeczUmCfVuEkpXudaAmpLTDVc/Rf3jy2ysWzseCr+fIu2K3AL4LCA7Kp9EXkQ"
    "cSEl8ZSEh3rfKpJJjrBCvhQ503w8KDu0d2HD0jiMGGq6/lRoPdzf8IQW93xkv3fLlOh/"
)


def test_decrypts_a_value_dotenvx_wrote() -> None:
    assert public_key_of(Secret(DOTENVX_PRIVATE)) == DOTENVX_PUBLIC
    assert decrypt_value(Secret(DOTENVX_PRIVATE), DOTENVX_VALUE) == "wörld 🔑"


@pytest.fixture(scope="module")
def pair() -> tuple[Secret, str]:
    generated = generate_keypair()
    return generated.private_key, generated.public_key


def test_keypair_is_canonical_hex() -> None:
    generated = generate_keypair()
    assert re.fullmatch(r"[0-9a-f]{64}", generated.private_key.reveal())
    assert re.fullmatch(r"0[23][0-9a-f]{64}", generated.public_key)
    assert public_key_of(generated.private_key) == generated.public_key
    assert "***" in repr(generated)
    assert generated.private_key.reveal() not in repr(generated)


def test_public_key_of_known_scalar() -> None:
    # d = 1 gives the generator point G, whose compressed form is well known.
    one = Secret("00" * 31 + "01")
    assert public_key_of(one) == (
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    )


@pytest.mark.parametrize(
    "plaintext", ["", "World", "wörld 🔑", "line\nbreak\r\n", "x" * 8192, "=#'\"`$(x)"]
)
def test_round_trip(pair: tuple[Secret, str], plaintext: str) -> None:
    private, public = pair
    value = encrypt_value(public, plaintext)
    assert is_encrypted(value)
    assert decrypt_value(private, value) == plaintext


def test_layout_and_size(pair: tuple[Secret, str]) -> None:
    _, public = pair
    value = encrypt_value(public, "World")
    raw = base64.b64decode(value[len(ENCRYPTED_PREFIX) :], validate=True)
    assert len(raw) == 65 + 16 + 16 + 5
    assert raw[0] == 4  # uncompressed ephemeral key
    assert len(encrypt_value(public, "")) == len(ENCRYPTED_PREFIX) + 132
    assert len(value) == len(ENCRYPTED_PREFIX) + 136
    # Fresh ephemeral key and nonce every time.
    assert encrypt_value(public, "World") != value


def test_encryptor_accepts_uncompressed_and_uppercase(pair: tuple[Secret, str]) -> None:
    import coincurve

    private, public = pair
    uncompressed = coincurve.PublicKey(bytes.fromhex(public)).format(compressed=False).hex()
    for form in (uncompressed, public.upper(), f"  {public}\n"):
        assert normalize_public_key(form) == public
        assert Decryptor(private).decrypt(Encryptor(form).encrypt("v")) == "v"


def test_private_key_leniency(pair: tuple[Secret, str]) -> None:
    private, public = pair
    value = encrypt_value(public, "v")
    hex_key = private.reveal()
    for form in (hex_key.upper(), hex_key + "  trailing junk", f" {hex_key}\n", hex_key + ",x"):
        assert decrypt_value(Secret(form), value) == "v"


def test_base64_leniency(pair: tuple[Secret, str]) -> None:
    private, public = pair
    value = encrypt_value(public, "lenient")
    body = value[len(ENCRYPTED_PREFIX) :]
    urlsafe = body.replace("+", "-").replace("/", "_").rstrip("=")
    wrapped = "\n".join(body[i : i + 40] for i in range(0, len(body), 40))
    for form in (urlsafe, wrapped):
        assert decrypt_value(private, ENCRYPTED_PREFIX + form) == "lenient"


def test_invalid_utf8_plaintext_becomes_replacement_char(pair: tuple[Secret, str]) -> None:
    # Build a value whose plaintext bytes are not UTF-8, the way another tool could.
    import os

    import coincurve
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from envdrift.dotenvx.crypto import _derive_key

    private, public = pair
    k = os.urandom(32)
    ephemeral = coincurve.PublicKey.from_secret(k).format(compressed=False)
    shared = coincurve.PublicKey(bytes.fromhex(public)).multiply(k).format(compressed=False)
    nonce = os.urandom(16)
    sealed = AESGCM(_derive_key(ephemeral, shared)).encrypt(nonce, b"ok\xff", None)
    value = (
        ENCRYPTED_PREFIX
        + base64.b64encode(ephemeral + nonce + sealed[-16:] + sealed[:-16]).decode()
    )
    assert decrypt_value(private, value) == "ok\ufffd"


def test_wrong_key_is_a_decryption_error(pair: tuple[Secret, str]) -> None:
    _, public = pair
    value = encrypt_value(public, "secret-marker")
    other = generate_keypair().private_key
    with pytest.raises(DecryptionError) as info:
        decrypt_value(other, value)
    assert "secret-marker" not in str(info.value)


def test_tampered_value_is_a_decryption_error(pair: tuple[Secret, str]) -> None:
    private, public = pair
    raw = bytearray(base64.b64decode(encrypt_value(public, "abc")[len(ENCRYPTED_PREFIX) :]))
    raw[-1] ^= 1
    with pytest.raises(DecryptionError):
        decrypt_value(private, ENCRYPTED_PREFIX + base64.b64encode(bytes(raw)).decode())


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("abc", "expected 64 hex characters, found 3"),
        ("0x" + "1" * 64, "found 1"),
        ("g" * 64, "found 0"),
        ("1" * 63, "found 63"),
        ("1" * 66, "found 66"),
        ("00" * 32, "not a valid secp256k1 scalar"),
        ("ff" * 32, "not a valid secp256k1 scalar"),
    ],
)
def test_malformed_private_keys(key: str, message: str) -> None:
    with pytest.raises(FormatError, match=message) as info:
        public_key_of(Secret(key))
    if len(key) > 8:
        assert key not in str(info.value)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("02" + "zz" * 32, "expected 66 hex"),
        ("05" + "11" * 32, "expected 66 hex"),
        ("02" + "ff" * 32, "not a point"),
        ("", "expected 66 hex"),
    ],
)
def test_malformed_public_keys(key: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        Encryptor(key)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("plain", "missing 'encrypted:' prefix"),
        ("encrypted:***", "not valid Base64"),
        ("encrypted:QUJD", "3 bytes, at least 97 needed"),
        ("encrypted:" + base64.b64encode(b"\x05" + bytes(96)).decode(), "not a secp256k1 point"),
    ],
)
def test_malformed_ciphertexts(pair: tuple[Secret, str], value: str, message: str) -> None:
    private, _ = pair
    with pytest.raises(FormatError, match=re.escape(message)):
        decrypt_value(private, value)


def test_decryptor_repr_hides_key(pair: tuple[Secret, str]) -> None:
    private, public = pair
    decryptor = Decryptor(private)
    assert private.reveal() not in repr(decryptor)
    assert decryptor.public_key == public
