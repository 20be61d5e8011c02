"""The vault and verifier conformance suites (see ``envdrift.testing``)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest

from envdrift.errors import EnvdriftError, NotFoundError, UnsupportedOperation
from envdrift.plugins import ENTRY_POINT_GROUP
from envdrift.secrets import Secret
from envdrift.vaults import Vault

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from envdrift.hookspecs import DecryptionCheck

__all__ = ["KeyVerifierContract", "VaultContract"]

#: A value shaped like a dotenvx private key, known only to the tests.
SAMPLE_KEY = "0f" * 32

AWKWARD_VALUES = {
    "unicode": "clé-ünïcødé-🔑",
    "newlines": "line one\nline two\n",
    "quotes": 'it\'s "quoted" `and` back\\slashed',
    "equals-and-hash": "a=b#c=d # not a comment",
    "spaces": "  padded value  ",
    "long": "x" * 4096,
    "env-line": f'DOTENV_PRIVATE_KEY_PRODUCTION="{SAMPLE_KEY}"',
    "json": json.dumps({"value": SAMPLE_KEY}),
}


class VaultContract:
    """Tests every ``Vault`` backend must pass.

    Subclasses provide the ``vault`` fixture (a working backend against a real or local
    server) and set the class attributes below. Secret names come from ``new_name``,
    which subclasses may override when their service restricts names.

    The tests of an optional operation (``list``, ``check``) are skipped when the vault
    declares it unsupported: it does not override the method (``Vault.supports``), or
    the method raises ``UnsupportedOperation``.
    """

    #: The module the entry point loads (checked to import cheaply).
    plugin_module: ClassVar[str] = ""
    #: The entry-point name in the ``envdrift`` group; ``None`` skips that test.
    entry_point_name: ClassVar[str | None] = None
    #: Top-level modules of the SDK that must not be imported by ``plugin_module``.
    sdk_modules: ClassVar[tuple[str, ...]] = ()

    @pytest.fixture
    def vault(self) -> Vault:
        raise NotImplementedError("subclasses provide a `vault` fixture")

    @pytest.fixture
    def new_name(self) -> Callable[[], str]:
        """Return a factory of fresh secret names, valid for every known service."""
        run = uuid.uuid4().hex[:8]
        counter = iter(range(1_000_000))
        return lambda: f"envdrift-contract-{run}-{next(counter)}"

    def test_round_trip(self, vault: Vault, new_name: Callable[[], str]) -> None:
        name = new_name()
        vault.store(name, Secret(SAMPLE_KEY))
        assert vault.fetch(name).reveal() == SAMPLE_KEY

    def test_overwrite_returns_latest(self, vault: Vault, new_name: Callable[[], str]) -> None:
        name = new_name()
        vault.store(name, Secret("first"))
        vault.store(name, Secret("second"))
        assert vault.fetch(name).reveal() == "second"

    def test_missing_secret_raises_not_found(
        self, vault: Vault, new_name: Callable[[], str]
    ) -> None:
        name = new_name()
        with pytest.raises(NotFoundError) as info:
            vault.fetch(name)
        assert name in str(info.value)

    @pytest.mark.parametrize("label", sorted(AWKWARD_VALUES))
    def test_awkward_values_round_trip(
        self, vault: Vault, new_name: Callable[[], str], label: str
    ) -> None:
        name = new_name()
        vault.store(name, Secret(AWKWARD_VALUES[label]))
        assert vault.fetch(name).reveal() == AWKWARD_VALUES[label]

    def test_fetch_many_reports_each_name(self, vault: Vault, new_name: Callable[[], str]) -> None:
        present, missing = new_name(), new_name()
        vault.store(present, Secret(SAMPLE_KEY))
        results = vault.fetch_many([present, missing])
        assert isinstance(results[present], Secret)
        assert results[present].reveal() == SAMPLE_KEY  # type: ignore[union-attr]
        assert isinstance(results[missing], NotFoundError)

    def test_list_finds_stored_names_by_prefix(
        self, vault: Vault, new_name: Callable[[], str]
    ) -> None:
        _skip_unless_supported(vault, "list")
        first, second = new_name(), new_name()
        vault.store(first, Secret("1"))
        vault.store(second, Secret("2"))
        common = first[: len(first) - 1]
        with _skip_if_unsupported("list"):
            listed = vault.list(common)
        assert first in listed
        assert all(name.startswith(common) for name in listed)

    def test_no_secret_in_repr_or_errors(self, vault: Vault, new_name: Callable[[], str]) -> None:
        name = new_name()
        marker = "contract-marker-" + uuid.uuid4().hex
        vault.store(name, Secret(marker))
        fetched = vault.fetch(name)
        assert marker not in repr(fetched)
        assert marker not in str(fetched)
        assert marker not in repr(vault)
        with pytest.raises(EnvdriftError) as info:
            vault.fetch(new_name())
        assert marker not in str(info.value)

    def test_check_passes(self, vault: Vault) -> None:
        _skip_unless_supported(vault, "check")
        with _skip_if_unsupported("check"):
            vault.check()

    def test_plugin_module_imports_cheaply(self) -> None:
        if not self.plugin_module:
            pytest.skip("plugin_module not set")
        code = (
            f"import sys, json, importlib; importlib.import_module({self.plugin_module!r}); "
            "print(json.dumps(sorted(sys.modules)))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
        loaded = set(json.loads(out))
        heavy = sorted(m for m in loaded for sdk in self.sdk_modules if m.split(".")[0] == sdk)
        assert not heavy, f"{self.plugin_module} imports SDK modules at import time: {heavy}"

    def test_entry_point_declared(self) -> None:
        if self.entry_point_name is None:
            pytest.skip("entry_point_name not set")
        eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        assert self.entry_point_name in eps, f"no {ENTRY_POINT_GROUP!r} entry point"
        assert eps[self.entry_point_name].value.split(":")[0] == self.plugin_module


def _skip_unless_supported(vault: Vault, operation: str) -> None:
    if not vault.supports(operation):
        pytest.skip(f"{type(vault).__name__} declares {operation!r} unsupported")


@contextlib.contextmanager
def _skip_if_unsupported(operation: str) -> Iterator[None]:
    try:
        yield
    except UnsupportedOperation as exc:
        pytest.skip(f"{operation!r} is unsupported here: {exc}")


class KeyVerifierContract:
    """Tests an ``envdrift_verify_decryption`` implementation must pass.

    Subclasses provide ``verify`` (calling their hook), and ``encrypted_file`` returning
    ``(path, text, right_key, wrong_key)`` for a file in their format with known plaintext
    ``plaintext_marker`` inside.
    """

    plaintext_marker: ClassVar[str] = "verifier-contract-plaintext"

    @pytest.fixture
    def verify(self) -> Callable[[Path, str, Secret], DecryptionCheck | None]:
        raise NotImplementedError

    @pytest.fixture
    def encrypted_file(self, tmp_path: Path) -> tuple[Path, str, Secret, Secret]:
        raise NotImplementedError

    def test_right_key_passes(
        self,
        verify: Callable[[Path, str, Secret], DecryptionCheck | None],
        encrypted_file: tuple[Path, str, Secret, Secret],
    ) -> None:
        path, text, right, _ = encrypted_file
        result = verify(path, text, right)
        assert result is not None
        assert result.ok
        assert result.checked > 0

    def test_wrong_key_fails_without_plaintext(
        self,
        verify: Callable[[Path, str, Secret], DecryptionCheck | None],
        encrypted_file: tuple[Path, str, Secret, Secret],
    ) -> None:
        path, text, _, wrong = encrypted_file
        result = verify(path, text, wrong)
        assert result is not None
        assert not result.ok
        assert result.reason
        assert self.plaintext_marker not in repr(result)

    def test_other_formats_are_not_claimed(
        self,
        verify: Callable[[Path, str, Secret], DecryptionCheck | None],
        tmp_path: Path,
    ) -> None:
        assert verify(tmp_path / "notes.txt", "just some text\n", Secret(SAMPLE_KEY)) is None

    def test_file_is_not_written(
        self,
        verify: Callable[[Path, str, Secret], DecryptionCheck | None],
        encrypted_file: tuple[Path, str, Secret, Secret],
    ) -> None:
        path, text, right, _ = encrypted_file
        before = {p: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}
        verify(path, text, right)
        after = {p: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}
        assert before == after
