"""What the contract does not cover: the file itself, bad files, bad config."""

from __future__ import annotations

import json
import stat
import threading
from typing import TYPE_CHECKING

import pytest
from envdrift import ConfigError, FormatError, NotFoundError, Secret, VaultContext
from envdrift_example_vault import JsonFileVault

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.testing.fixtures import CliRunnerFixture


def make(tmp_path: Path, path: str = "secrets.json") -> JsonFileVault:
    return JsonFileVault({"path": path}, VaultContext(base_dir=tmp_path))


def test_store_writes_a_private_json_object(tmp_path: Path) -> None:
    make(tmp_path).store("api-key", Secret("s3cret"))
    secrets_file = tmp_path / "secrets.json"
    assert json.loads(secrets_file.read_text()) == {"api-key": "s3cret"}
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


def test_path_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    make(tmp_path, "keys/vault.json").store("k", Secret("v"))
    assert (tmp_path / "keys" / "vault.json").is_file()


def test_concurrent_stores_lose_no_secret(tmp_path: Path) -> None:
    vault = make(tmp_path)
    threads = [
        threading.Thread(target=vault.store, args=(f"key-{i}", Secret(str(i)))) for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert vault.list("key-") == sorted(f"key-{i}" for i in range(20))


def test_malformed_file_names_file_and_line_but_no_secret(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{\n  "a": "hunter2-value",\n  "b": oops\n}\n')
    with pytest.raises(FormatError, match=r"secrets\.json line 3: not valid JSON") as info:
        make(tmp_path).fetch("a")
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_a_file_of_the_wrong_shape_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{"a": 1}')
    with pytest.raises(FormatError, match="one JSON object of strings"):
        make(tmp_path).list()


def test_fetch_many_reports_every_name_when_the_file_is_broken(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("[")
    results = make(tmp_path).fetch_many(["a", "b"])
    assert set(results) == {"a", "b"}
    assert all(isinstance(error, FormatError) for error in results.values())


def test_check_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="the file does not exist"):
        make(tmp_path).check()


def test_missing_path_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"set \[vault\.jsonfile\] path"):
        JsonFileVault({}, VaultContext(base_dir=tmp_path))


def test_misspelt_option_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'path'"):
        JsonFileVault({"paht": "secrets.json"}, VaultContext(base_dir=tmp_path))


def test_envdrift_plugins_lists_the_installed_plugin(envdrift_cli: CliRunnerFixture) -> None:
    result = envdrift_cli("plugins", "--json")
    assert result.exit_code == 0, result.stderr
    plugins = {plugin["name"]: plugin for plugin in json.loads(result.stdout)["plugins"]}
    assert plugins["jsonfile"]["distribution"] == "envdrift-example-vault"
    assert plugins["jsonfile"]["vaults"] == ["jsonfile"]
    assert plugins["jsonfile"]["error"] is None
