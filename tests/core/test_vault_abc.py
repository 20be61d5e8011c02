"""``Vault`` is an abstract base class: fetch and store required, list and check optional."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from envdrift import ConfigError, Secret, SyncMapping, UnsupportedOperation, Vault, VaultContext
from envdrift.builtins.files import FilesVault

pytest_plugins = ["pytester"]


class Minimal(Vault):
    """Only what every command needs."""

    name = "minimal"

    def fetch(self, name: str) -> Secret:
        return Secret("x")

    def store(self, name: str, value: Secret) -> None:
        pass


def mapping(**fields: object) -> SyncMapping:
    values: dict[str, object] = {
        "index": 1,
        "secret_name": "app-key",
        "folder_path": ".",
        "folder": Path("."),
        "environment": "production",
        "vault_name": None,
        "profile": None,
        "origin": "mapping 1",
    }
    values.update(fields)
    return SyncMapping(**values)  # type: ignore[arg-type]


def test_fetch_and_store_are_abstract() -> None:
    assert Vault.__abstractmethods__ == frozenset({"fetch", "store"})
    with pytest.raises(TypeError, match="abstract"):
        Vault({}, VaultContext())  # type: ignore[abstract]


def test_optional_operations_left_out_are_declared_unsupported() -> None:
    assert not Minimal.supports("list")
    assert not Minimal.supports("check")
    assert FilesVault.supports("list")
    assert FilesVault.supports("check")
    vault = Minimal({}, VaultContext())
    with pytest.raises(UnsupportedOperation, match="vault 'minimal' cannot list secrets"):
        vault.list()
    with pytest.raises(UnsupportedOperation, match="vault 'minimal' cannot check its setup"):
        vault.check()
    with pytest.raises(ValueError, match="'fetch' is not an optional vault operation"):
        Minimal.supports("fetch")


def test_default_route_refuses_vault_names_and_keeps_pair_prefixes_in_the_path() -> None:
    assert Minimal.route(mapping(), {}) == (None, "app-key")
    assert Minimal.route(mapping(vault_name="team", name_prefix="team"), {}) == (
        None,
        "team/app-key",
    )
    assert not Minimal.has_vault_names()
    with pytest.raises(ConfigError, match="vault 'minimal' has no notion of a vault name"):
        Minimal.route(mapping(vault_name="prod"), {})
    # FilesVault maps --vault-url to `path`: a vault address replaces default_vault_name.
    default = mapping(vault_name="main", vault_name_is_default=True)
    assert FilesVault.route(default, {"path": "elsewhere"}) == (None, "app-key")


CONTRACT_OF_A_MINIMAL_VAULT = """
    import pytest
    from envdrift import Secret, UnsupportedOperation, Vault, VaultContext, NotFoundError
    from envdrift.testing import VaultContract


    class DictVault(Vault):
        name = "dict"
        data = {}

        def fetch(self, name):
            if name not in self.data:
                raise NotFoundError(f"secret {name!r} not found in vault 'dict'")
            return Secret(self.data[name])

        def store(self, name, value):
            self.data[name] = value.reveal()


    class ListsOnlySometimes(DictVault):
        def list(self, prefix=""):
            raise UnsupportedOperation("this vault's token may not list")


    class TestMinimal(VaultContract):
        @pytest.fixture
        def vault(self):
            return DictVault({}, VaultContext())


    class TestRuntimeUnsupported(VaultContract):
        @pytest.fixture
        def vault(self):
            return ListsOnlySometimes({}, VaultContext())
"""


def test_the_contract_skips_what_a_vault_declares_unsupported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_contract=textwrap.dedent(CONTRACT_OF_A_MINIMAL_VAULT))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs", "-v")
    result.stdout.fnmatch_lines_random(
        [
            "*TestMinimal::test_list_finds_stored_names_by_prefix SKIPPED*",
            "*TestMinimal::test_check_passes SKIPPED*",
            "*TestMinimal::test_round_trip PASSED*",
            "*TestRuntimeUnsupported::test_list_finds_stored_names_by_prefix SKIPPED*",
            "*DictVault declares 'list' unsupported*",
            "*'list' is unsupported here: this vault's token may not list*",
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    assert outcomes.get("errors", 0) == 0
