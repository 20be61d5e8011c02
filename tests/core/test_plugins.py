"""Plugin loading: isolation of broken plugins, lookups, suggestions, the env switch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from envdrift import PluginLoadError, PluginRegistry, Secret, UnknownVaultError, Vault, hookimpl
from envdrift.__about__ import __version__
from envdrift.plugins import BUILTIN_PLUGINS


def make_distribution(root: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    """Write an installed-looking distribution (dist-info plus module) under ``root``."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[envdrift]\n{ep_name} = {module}\n")


GOOD = """
    from envdrift import Vault, hookimpl
    class Good(Vault):
        name = "good"
    @hookimpl
    def envdrift_register_vaults():
        return [Good]
"""
BROKEN_IMPORT = "import envdrift_dependency_that_does_not_exist\n"
BAD_HOOK = """
    from envdrift import hookimpl
    @hookimpl
    def envdrift_register_vault():
        return []
"""


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    make_distribution(root, "envdrift-good", "envdrift_good", GOOD, "good")
    make_distribution(root, "envdrift-broken", "envdrift_broken", BROKEN_IMPORT, "broken")
    make_distribution(root, "envdrift-badhook", "envdrift_badhook", BAD_HOOK, "badhook")
    monkeypatch.syspath_prepend(str(root))
    return root


def run_envdrift(
    *args: str, pythonpath: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(pythonpath), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "envdrift", *args], capture_output=True, text=True, env=full_env
    )


def test_builtin_plugins_are_core_s_and_each_vault_is_named_after_its_plugin() -> None:
    registry = PluginRegistry()
    builtins = {info.name: info for info in registry.plugins() if info.builtin}
    assert set(builtins) == set(BUILTIN_PLUGINS)
    for name, info in builtins.items():
        assert (info.distribution, info.version, info.error) == ("envdrift-core", __version__, None)
        assert info.module == BUILTIN_PLUGINS[name]
        assert info.vaults in ([], [name])  # what lets a built-in vault load alone
    assert builtins["files"].vaults == ["files"]


@pytest.mark.parametrize("vault", ["files", "hashicorp"])
@pytest.mark.parametrize("first", ["vault_class", "plugins"])
def test_a_plugin_claiming_a_builtin_or_first_party_name_never_gets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vault: str, first: str
) -> None:
    # The entry point sorts before "files" and "hashicorp": the owner still wins, however
    # the name is looked up, so installing a package cannot redirect where secrets go.
    make_distribution(
        tmp_path,
        "aaa-impostor",
        f"aaa_impostor_{vault}_{first}",  # a fresh module each time
        GOOD.replace('"good"', f'"{vault}"'),  # class Good claims the owner's name
        "aaa",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = PluginRegistry()
    if first == "vault_class":
        assert registry.vault_class(vault).__name__ != "Good"
    infos = {info.name: info for info in registry.plugins()}
    assert registry.vault_class(vault).__name__ != "Good"
    assert f"vault {vault!r} is provided by both plugin" in (infos["aaa"].error or "")
    assert infos["aaa"].vaults == []


def test_an_old_core_entry_point_is_not_registered_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # envdrift-core before 12.0.0's BUILTIN_PLUGINS declared its plugins as entry points;
    # metadata left from such an install must not make "files" claimed twice.
    info = tmp_path / "envdrift_core-0.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: envdrift-core\nVersion: 0.9\n")
    (info / "entry_points.txt").write_text("[envdrift]\nfiles = envdrift.builtins.files\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    infos = PluginRegistry().plugins()
    assert [i.name for i in infos if i.name == "files"] == ["files"]
    assert all(i.error is None for i in infos), [i.error for i in infos]


def test_broken_plugins_are_isolated_and_reported(plugin_path: Path) -> None:
    registry = PluginRegistry()
    infos = {info.name: info for info in registry.plugins()}
    assert infos["good"].vaults == ["good"]
    assert infos["good"].error is None
    assert "ModuleNotFoundError" in (infos["broken"].error or "")
    assert "envdrift_register_vault" in (infos["badhook"].error or "")
    assert "good" in registry.vault_names()
    with pytest.raises(
        PluginLoadError, match="plugin \"envdrift-broken\" failed to load, so vault 'broken'"
    ):
        registry.vault_class("broken")


def test_envdrift_plugins_shows_errors_and_other_commands_still_work(plugin_path: Path) -> None:
    listing = run_envdrift("plugins", "--json", pythonpath=plugin_path)
    assert listing.returncode == 0, listing.stderr
    plugins = {p["name"]: p for p in json.loads(listing.stdout)["plugins"]}
    assert plugins["broken"]["distribution"] == "envdrift-broken"
    assert plugins["broken"]["error"].startswith("ModuleNotFoundError")
    assert plugins["good"]["vaults"] == ["good"]
    human = run_envdrift("plugins", pythonpath=plugin_path)
    assert "ERROR ModuleNotFoundError" in human.stdout
    assert run_envdrift("--help", pythonpath=plugin_path).returncode == 0


def test_load_plugins_switch_limits_third_party_plugins(
    plugin_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVDRIFT_LOAD_PLUGINS", "")
    names = {info.name for info in PluginRegistry().plugins()}
    assert "files" in names
    assert not names & {"good", "broken", "badhook", "aws", "azure", "hashicorp"}
    monkeypatch.setenv("ENVDRIFT_LOAD_PLUGINS", "envdrift-good")
    names = {info.name for info in PluginRegistry().plugins()}
    assert "good" in names
    assert "broken" not in names


def test_unknown_vault_suggests_and_first_party_gets_install_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVDRIFT_LOAD_PLUGINS", "")
    registry = PluginRegistry()
    with pytest.raises(
        UnknownVaultError, match=r"Did you mean 'aws'\?.*Installed vaults: command, files"
    ):
        registry.vault_class("asw")
    # Not installed at all (an installed one would be named switched off, as below).
    with pytest.raises(UnknownVaultError, match=r"Install it with: pip install .*envdrift-azure"):
        PluginRegistry(load_entry_points=False).vault_class("azure")


def test_a_vault_whose_plugin_is_switched_off_says_so(
    plugin_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVDRIFT_LOAD_PLUGINS", "envdrift-broken")
    registry = PluginRegistry()
    assert "good" not in registry.vault_names()
    with pytest.raises(UnknownVaultError) as info:
        registry.vault_class("good")
    assert str(info.value) == (
        "vault 'good' is unavailable: plugin \"envdrift-good\" is installed but switched off "
        "by ENVDRIFT_LOAD_PLUGINS ('envdrift-broken'); add 'good' to it, or unset it to load "
        "every plugin"
    )


def test_a_vault_class_left_abstract_is_that_plugins_error() -> None:
    class Half(Vault):
        name = "half"

        def fetch(self, name: str) -> Secret:
            return Secret("x")

    plugin = SimpleNamespace(__name__="halfway", envdrift_register_vaults=hookimpl(lambda: [Half]))
    registry = PluginRegistry(load_entry_points=False, plugins=[plugin])
    with pytest.raises(PluginLoadError, match=r"plugin 'halfway'.*Half does not implement store"):
        registry.make_vault("half", {})


def test_two_plugins_claiming_one_name_are_both_named() -> None:
    class One(Vault):
        name = "same"

    one = SimpleNamespace(__name__="plugin-one", envdrift_register_vaults=hookimpl(lambda: [One]))
    two = SimpleNamespace(__name__="plugin-two", envdrift_register_vaults=hookimpl(lambda: [One]))
    registry = PluginRegistry(load_entry_points=False, plugins=[one, two])
    infos = {info.name: info for info in registry.plugins()}
    errors = [info.error for info in infos.values() if info.error]
    assert len(errors) == 1
    assert "plugin-one" in errors[0]
    assert "plugin-two" in errors[0]


def test_registry_returns_non_vault_as_plugin_error() -> None:
    plugin = SimpleNamespace(__name__="weird", envdrift_register_vaults=hookimpl(lambda: [object]))
    registry = PluginRegistry(load_entry_points=False, plugins=[plugin])
    (info,) = registry.plugins()
    assert "not a Vault subclass" in (info.error or "")
    assert registry.vault_names() == []


def test_a_partly_wrong_answer_provides_no_vault() -> None:
    class Fine(Vault):
        name = "fine"

    plugin = SimpleNamespace(
        __name__="half", envdrift_register_vaults=hookimpl(lambda: [Fine, object])
    )
    registry = PluginRegistry(load_entry_points=False, plugins=[plugin])
    (info,) = registry.plugins()
    assert "not a Vault subclass" in (info.error or "")
    assert info.vaults == []
    assert registry.vault_names() == []


def test_a_hook_returning_a_non_list_is_that_plugins_error() -> None:
    class Fine(Vault):
        name = "fine"

    plugin = SimpleNamespace(__name__="bare", envdrift_register_vaults=hookimpl(lambda: Fine))
    registry = PluginRegistry(load_entry_points=False, plugins=[plugin])
    (info,) = registry.plugins()
    assert "not a list of Vault subclasses" in (info.error or "")
    assert registry.vault_names() == []


@pytest.fixture
def metadata_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every file read from an installed distribution's metadata: (folder, file name)."""
    import importlib.metadata

    read: list[tuple[str, str]] = []
    original = importlib.metadata.PathDistribution.read_text

    def spy(self: importlib.metadata.PathDistribution, filename: str) -> str | None:
        read.append((self._path.name, filename))  # type: ignore[attr-defined]
        return original(self, filename)

    monkeypatch.setattr(importlib.metadata.PathDistribution, "read_text", spy)
    return read


def test_a_builtin_vault_opens_without_reading_any_distribution(
    metadata_reads: list[tuple[str, str]],
) -> None:
    registry = PluginRegistry()
    assert registry.vault_class("files").name == "files"
    assert metadata_reads == []
    assert [i.name for i in registry._infos] == ["files"]  # no other plugin loaded


def test_our_backend_opens_from_its_own_entry_points_only(
    metadata_reads: list[tuple[str, str]],
) -> None:
    # Its distribution's entry_points.txt, no scan of every distribution's, and no
    # METADATA: that is read only for what shows it (`envdrift plugins`, errors).
    registry = PluginRegistry()
    assert registry.vault_class("hashicorp").name == "hashicorp"
    assert [file for _, file in metadata_reads] == ["entry_points.txt"]
    assert metadata_reads[0][0].startswith("envdrift_hashicorp-")
    hashicorp = next(info for info in registry.plugins() if info.name == "hashicorp")
    assert (hashicorp.distribution, hashicorp.builtin) == ("envdrift-hashicorp", False)
    assert ("METADATA" in {file for _, file in metadata_reads}) is True


def test_threads_asking_at_once_all_wait_for_every_plugin() -> None:
    # sync's workers check decryption concurrently, and the first question loads the
    # plugins: the other threads must wait for that, not ask a half-loaded registry.
    from concurrent.futures import ThreadPoolExecutor

    from envdrift import DecryptionCheck

    def slow_vaults() -> list[type[Vault]]:
        time.sleep(0.3)
        return []

    def verify(
        path: Path, text: str, private_key: Secret, environment: str | None
    ) -> DecryptionCheck:
        return DecryptionCheck(path=path, ok=True, checked=1)

    slow = SimpleNamespace(__name__="a-slow", envdrift_register_vaults=hookimpl(slow_vaults))
    verifier = SimpleNamespace(__name__="b-verifier", envdrift_verify_decryption=hookimpl(verify))
    registry = PluginRegistry(load_entry_points=False, plugins=[slow, verifier])
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda n: registry.verify_decryption(Path(f"f{n}"), "", Secret("k")), range(8))
        )
    assert all(answer is not None and answer.ok for answer in answers), answers
