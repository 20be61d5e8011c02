"""The built-in ``envdrift_verify_decryption``: an ordinary, trylast plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from envdrift import DecryptionCheck, PluginRegistry, Secret
from envdrift.builtins import dotenvx as dotenvx_plugin
from envdrift.dotenvx.crypto import encrypt_value, generate_keypair
from envdrift.dotenvx.operations import public_key_header
from envdrift.plugins import BUILTIN_PLUGINS
from envdrift.testing import KeyVerifierContract

MARKER = KeyVerifierContract.plaintext_marker


def dotenvx_file(public_key: str, values: dict[str, str]) -> str:
    header = public_key_header("DOTENV_PUBLIC_KEY_PRODUCTION", public_key, ".env.production")
    body = "".join(f'{k}="{encrypt_value(public_key, v)}"\n' for k, v in values.items())
    return header + body + "PLAIN_PLAIN=visible\n"


def verify_named(path: Path, text: str, key: Secret) -> DecryptionCheck | None:
    """The hook for a file the user named (no environment to match)."""
    return dotenvx_plugin.envdrift_verify_decryption(path, text, key, None)


class TestDotenvxVerifier(KeyVerifierContract):
    @pytest.fixture
    def verify(self) -> Callable[[Path, str, Secret], DecryptionCheck | None]:
        registry = PluginRegistry(load_entry_points=False, plugins=[dotenvx_plugin])
        return registry.verify_decryption

    @pytest.fixture
    def encrypted_file(self, tmp_path: Path) -> tuple[Path, str, Secret, Secret]:
        right, wrong = generate_keypair(), generate_keypair()
        text = dotenvx_file(right.public_key, {"A": MARKER, "B": "two", "C": ""})
        path = tmp_path / ".env.production"
        path.write_text(text)
        return path, text, right.private_key, wrong.private_key


def test_counts_and_names_failures(tmp_path: Path) -> None:
    right, other = generate_keypair(), generate_keypair()
    text = dotenvx_file(right.public_key, {"A": "1", "B": "2"})
    text += f"C={encrypt_value(other.public_key, MARKER)}\n"
    result = verify_named(tmp_path / "f", text, right.private_key)
    assert result is not None
    assert (result.ok, result.checked, result.failed, result.key_matches) == (
        False,
        3,
        ("C",),
        True,
    )
    assert "1 of 3 encrypted values did not decrypt: C" in result.reason
    assert MARKER not in repr(result)


def test_wrong_key_reports_mismatched_public_key(tmp_path: Path) -> None:
    right, wrong = generate_keypair(), generate_keypair()
    text = dotenvx_file(right.public_key, {"A": "1"})
    result = verify_named(tmp_path / "f", text, wrong.private_key)
    assert result is not None
    assert result.key_matches is False
    assert "does not match DOTENV_PUBLIC_KEY_PRODUCTION" in result.reason
    assert wrong.private_key.reveal() not in result.reason


def test_malformed_key_is_a_failed_check_not_an_exception(tmp_path: Path) -> None:
    pair = generate_keypair()
    text = dotenvx_file(pair.public_key, {"A": "1"})
    result = verify_named(tmp_path / "f", text, Secret("nothex"))
    assert result is not None
    assert not result.ok
    assert "64 hex" in result.reason


def test_public_key_only_file_is_claimed(tmp_path: Path) -> None:
    pair = generate_keypair()
    text = dotenvx_file(pair.public_key, {})
    result = verify_named(tmp_path / "f", text, pair.private_key)
    assert result is not None
    assert (result.ok, result.checked, result.key_matches) == (True, 0, True)


def test_registered_as_a_builtin_and_trylast() -> None:
    assert BUILTIN_PLUGINS["dotenvx"] == "envdrift.builtins.dotenvx"
    registry = PluginRegistry()
    registry.load()
    impls = registry.pm.hook.envdrift_verify_decryption.get_hookimpls()
    ours = [i for i in impls if i.plugin_name == "dotenvx"]
    assert ours
    assert ours[0].trylast


def test_malformed_public_key_without_values_is_not_claimed(tmp_path: Path) -> None:
    text = 'DOTENV_PUBLIC_KEY_PRODUCTION="something-else"\nA=plain\n'
    key = generate_keypair().private_key
    assert verify_named(tmp_path / "f", text, key) is None


def test_malformed_public_key_with_values_fails_check(tmp_path: Path) -> None:
    pair = generate_keypair()
    text = f'DOTENV_PUBLIC_KEY="nope"\nA={encrypt_value(pair.public_key, "1")}\n'
    result = verify_named(tmp_path / "f", text, pair.private_key)
    assert result is not None
    assert (result.ok, result.checked, result.failed) == (False, 1, ())
    assert "line 1: DOTENV_PUBLIC_KEY is a malformed public key" in result.reason


def test_a_candidate_is_ours_only_when_it_declares_the_environment(tmp_path: Path) -> None:
    pair = generate_keypair()
    text = dotenvx_file(pair.public_key, {"A": "1"})  # declares DOTENV_PUBLIC_KEY_PRODUCTION
    path = tmp_path / ".env.production"
    check = dotenvx_plugin.envdrift_verify_decryption
    assert check(path, text, pair.private_key, "staging") is None
    found = check(path, text, pair.private_key, "production")
    assert found is not None
    assert found.ok
    named = check(path, text, pair.private_key, None)  # a file the user named: checked
    assert named is not None
    assert named.ok
