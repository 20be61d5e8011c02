"""The session: a configuration's vaults opened for one run (``envdrift.session``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from envdrift import ConfigError, UnknownVaultError
from envdrift.config import Limits
from envdrift.retry import DEFAULT_DEADLINE, DEFAULT_RETRIES, DEFAULT_TIMEOUT
from envdrift.session import open_vaults, retry_settings

from tests.core.sync_helpers import LatencyPlugin, registry_with
from tests.core.test_config import load

#: Three mappings on the ``slow`` vault: two in the default vault name, one in another.
TWO_VAULT_NAMES = """
[vault]
provider = "slow"
[vault.slow]
path = "s"
[vault.sync]
default_vault_name = "main"
[[vault.sync.mappings]]
secret_name = "a"
folder_path = "."
[[vault.sync.mappings]]
secret_name = "b"
folder_path = "."
environment = "b"
[[vault.sync.mappings]]
secret_name = "c"
folder_path = "."
vault_name = "other"
"""


def test_no_provider_anywhere(tmp_path: Path) -> None:
    config = load(tmp_path, "[[vault.sync.mappings]]\nsecret_name='a'\nfolder_path='.'\n")
    with pytest.raises(ConfigError, match=r"no vault provider: set \[vault\] provider in"):
        open_vaults(config, registry_with())


def test_provider_flag_wins_and_unknown_providers_say_so(tmp_path: Path) -> None:
    config = load(tmp_path, "[vault]\nprovider = 'nope'\n[vault.files]\npath = 's'\n")
    with pytest.raises(UnknownVaultError, match="unknown vault 'nope'"):
        open_vaults(config, registry_with())
    assert open_vaults(config, registry_with(), provider="files").provider == "files"


def test_flags_reach_the_backend_through_its_cli_options(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [vault]
        provider = "files"
        [vault.files]
        path = "from-file"
        [[vault.sync.mappings]]
        secret_name = "a"
        folder_path = "."
        """,
    )
    with open_vaults(config, registry_with(), flags={"vault_url": "from-flag"}) as vaults:
        vault, name = vaults.for_mapping(config.mappings[0])
    assert vault.root == tmp_path / "from-flag"  # type: ignore[attr-defined]
    assert name == "a"
    with open_vaults(config, registry_with(), flags={"vault_url": None}) as vaults:
        vault, _ = vaults.for_mapping(config.mappings[0])
    assert vault.root == tmp_path / "from-file"  # type: ignore[attr-defined]


def test_a_flag_the_backend_does_not_take_is_a_usage_error(tmp_path: Path) -> None:
    config = load(tmp_path, "[vault]\nprovider = 'files'\n")
    with pytest.raises(ConfigError, match=r"--region does not apply to vault 'files' \(its flags"):
        open_vaults(config, registry_with(), flags={"region": "eu-west-1"})


def test_the_backend_validates_its_own_table(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [vault]
        provider = "files"
        [vault.files]
        paht = "s"
        [[vault.sync.mappings]]
        secret_name = "a"
        folder_path = "."
        """,
    )
    with (
        pytest.raises(ConfigError, match=r"envdrift.toml: unknown option 'paht'.*Did you mean"),
        open_vaults(config, registry_with()) as vaults,
    ):
        vaults.for_mapping(config.mappings[0])


def test_vault_name_on_a_backend_without_vault_names_is_an_error(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [vault]
        provider = "files"
        [vault.files]
        path = "s"
        [[vault.sync.mappings]]
        secret_name = "a"
        folder_path = "."
        vault_name = "prod"
        """,
    )
    with (
        pytest.raises(
            ConfigError, match=r"envdrift.toml \(mapping 1\): .*no notion of a vault name"
        ),
        open_vaults(config, registry_with()) as vaults,
    ):
        vaults.for_mapping(config.mappings[0])


def test_one_instance_per_vault_name_all_closed(tmp_path: Path) -> None:
    plugin = LatencyPlugin()
    config = load(tmp_path, TWO_VAULT_NAMES)
    with open_vaults(config, registry_with(plugin)) as vaults:
        first = [vaults.for_mapping(m)[0] for m in config.mappings]
    assert first[0] is first[1] is not first[2]
    assert len(plugin.instances) == 2
    assert plugin.closed == 2


def test_vault_url_flag_replaces_the_default_vault_name_only(tmp_path: Path) -> None:
    config = load(tmp_path, TWO_VAULT_NAMES)
    registry = registry_with(LatencyPlugin())
    with open_vaults(config, registry) as vaults:
        assert [vaults.target(m)[0] for m in config.mappings] == ["main", "main", "other"]
    with open_vaults(config, registry, flags={"vault_url": "elsewhere"}) as vaults:
        assert [vaults.target(m)[0] for m in config.mappings] == [None, None, "other"]


def test_pair_prefix_is_a_vault_name_or_part_of_the_path(tmp_path: Path) -> None:
    config = load(tmp_path, "team/app-key=.\n", name="pair.txt")
    with open_vaults(config, registry_with(LatencyPlugin()), provider="slow") as vaults:
        assert vaults.target(config.mappings[0]) == ("team", "app-key")
    with open_vaults(config, registry_with(), provider="files", flags={"vault_url": "s"}) as vaults:
        assert vaults.target(config.mappings[0]) == (None, "team/app-key")
        assert vaults.for_mapping(config.mappings[0])[1] == "team/app-key"


def test_pair_txt_needs_a_provider_flag(tmp_path: Path) -> None:
    config = load(tmp_path, "a=.\n", name="pair.txt")
    with pytest.raises(ConfigError, match=r"pass -p/--provider \(pair.txt cannot name one\)"):
        open_vaults(config, registry_with())


def test_limits_become_the_retry_settings_defaults_filling_the_rest() -> None:
    timeout, policy, deadline = retry_settings(Limits())
    assert (timeout, policy.retries, deadline) == (
        DEFAULT_TIMEOUT,
        DEFAULT_RETRIES,
        DEFAULT_DEADLINE,
    )
    timeout, policy, deadline = retry_settings(Limits(timeout=30, retries=0, deadline=5))
    assert (timeout, policy.retries, deadline) == (5, 0, 5)  # a first attempt fits the deadline


def test_command_line_limits_win_over_the_file(tmp_path: Path) -> None:
    config = load(tmp_path, "[vault]\nprovider = 'files'\ntimeout = 7\nretries = 2\n")
    with open_vaults(config, registry_with(), limits=Limits(retries=1)) as vaults:
        assert vaults.limits == Limits(timeout=7, retries=1, deadline=None)
        assert vaults.config is config
        assert vaults.provider == "files"
