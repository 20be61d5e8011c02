"""``envdrift.testing.fixtures``: opt-in fixtures for plugin authors' test suites."""

from __future__ import annotations

import textwrap
from importlib.metadata import distributions

import pytest

pytest_plugins = ["pytester"]

USES_EVERY_FIXTURE = """
    import json
    from types import SimpleNamespace

    import pytest
    from envdrift import Secret, Vault, hookimpl
    from envdrift.builtins import files


    class Echo(Vault):
        name = "echo"


    @hookimpl
    def register() -> list[type[Vault]]:
        return [Echo]


    PLUGIN = SimpleNamespace(__name__="echo-plugin", envdrift_register_vaults=register)


    def test_plugin_registry_holds_only_what_it_is_given(plugin_registry):
        registry = plugin_registry(PLUGIN)
        assert registry.vault_names() == ["echo"]
        assert plugin_registry(files).vault_names() == ["files"]
        assert plugin_registry().vault_names() == []


    def test_plugin_registry_can_load_installed_plugins(plugin_registry):
        registry = plugin_registry(PLUGIN, load_entry_points=True)
        assert {"echo", "files"} <= set(registry.vault_names())


    def test_files_vault_is_a_working_files_vault(files_vault, tmp_path):
        files_vault.store("api/key", Secret("value"))
        assert (tmp_path / "vault" / "api" / "key").read_text() == "value"
        assert files_vault.list() == ["api/key"]
        assert files_vault.name == "files"


    def test_envdrift_cli_runs_commands(envdrift_cli, tmp_path):
        result = envdrift_cli("plugins", "--json", cwd=tmp_path)
        assert result.exit_code == 0
        names = [p["name"] for p in json.loads(result.stdout)["plugins"]]
        assert "files" in names
        assert envdrift_cli("no-such-command").exit_code == 2


    def test_envdrift_cli_runs_with_a_given_registry(envdrift_cli, plugin_registry, tmp_path):
        (tmp_path / "vault").mkdir()
        (tmp_path / "envdrift.toml").write_text(
            '[vault]\\nprovider = "files"\\n\\n[vault.files]\\npath = "vault"\\n\\n'
            '[[vault.sync.mappings]]\\nsecret_name = "k"\\nfolder_path = "."\\n'
        )
        installed = envdrift_cli("sync", "--verify", cwd=tmp_path)
        assert "secret 'k' not found in vault 'files'" in installed.stdout
        empty = envdrift_cli("sync", "--verify", cwd=tmp_path, registry=plugin_registry())
        assert empty.exit_code == 2
        assert "unknown vault 'files'" in empty.stderr


    def test_envdrift_cli_catches_leaked_keys(envdrift_cli):
        key = "ab" * 32
        with pytest.raises(AssertionError, match="private-key-shaped value reached the stderr"):
            envdrift_cli("plugins", key)
        assert envdrift_cli("plugins", key, allow_keys=True).exit_code == 2
"""


def test_fixtures_work_once_opted_in(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["envdrift.testing.fixtures"]\n')
    pytester.makepyfile(test_plugin=textwrap.dedent(USES_EVERY_FIXTURE))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_fixtures_are_absent_unless_opted_in(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plugin=textwrap.dedent(USES_EVERY_FIXTURE))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=6)
    result.stdout.fnmatch_lines(["*fixture 'plugin_registry' not found*"])


def test_no_envdrift_distribution_registers_a_pytest_plugin() -> None:
    # A pytest11 entry point would load our fixtures into every test run on the machine.
    ours = [d for d in distributions() if (d.metadata["Name"] or "").startswith("envdrift")]
    assert any(d.metadata["Name"] == "envdrift-core" for d in ours)
    for dist in ours:
        assert not dist.entry_points.select(group="pytest11"), dist.metadata["Name"]
