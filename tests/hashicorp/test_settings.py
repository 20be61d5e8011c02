"""Options and environment are checked when the backend is built, before any request."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from envdrift import ConfigError, PluginRegistry, VaultContext
from envdrift_hashicorp import HashicorpVault
from envdrift_hashicorp._settings import Settings


def make(options: dict[str, Any] | None = None, **context: Any) -> HashicorpVault:
    vault = PluginRegistry().make_vault("hashicorp", options or {}, VaultContext(**context))
    assert isinstance(vault, HashicorpVault)
    return vault


def test_registered_through_the_entry_point() -> None:
    registry = PluginRegistry()
    assert "hashicorp" in registry.vault_names()
    assert registry.vault_class("hashicorp") is HashicorpVault


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com:8200/")
    settings = make().settings
    assert settings.address == "https://vault.example.com:8200"
    assert settings.address_source == "VAULT_ADDR"
    assert (settings.mount, settings.field, settings.kv_version) == ("secret", "value", None)
    assert (settings.auth, settings.approle_mount, settings.namespace) == ("token", "approle", None)
    assert not settings.tls.skip_verify


def test_describe_names_address_mount_and_namespace() -> None:
    vault = make({"url": "https://v:8200", "mount": "kv/team/", "namespace": "/eng/"})
    assert (
        vault.describe() == "vault 'hashicorp' (https://v:8200, mount 'kv/team', namespace 'eng')"
    )
    assert repr(vault) == f"<HashicorpVault {vault.describe()}>"


def test_config_namespace_wins_over_vault_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_NAMESPACE", "from-env")
    assert make().settings.namespace == "from-env"
    assert make({"namespace": "from-config"}).settings.namespace == "from-config"


def test_per_call_timeout_comes_from_the_context() -> None:
    assert make(timeout=4.5).settings.timeout == 4.5


def test_id_files_resolve_against_the_config_folder(tmp_path: Path) -> None:
    settings = make({"role_id_file": "ci/role"}, base_dir=tmp_path).settings
    assert settings.role_id_file == tmp_path / "ci" / "role"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "vault.example.com"}, "is not an http:// or https:// URL"),
        ({"url": "ftp://vault"}, "is not an http:// or https:// URL"),
        ({"url": 8200}, "url must be a string"),
        ({"kv_version": 3}, "kv_version must be 1 or 2"),
        ({"auth": "userpass"}, 'auth must be "token", "approle" or "jwt"'),
        ({"mount": "/"}, "is not a mount path"),
        ({"mount": "a/../b"}, "is not a mount path"),
        ({"field": ["value"]}, "field must be a string"),
        ({"vault_url": "https://v"}, "unknown option 'vault_url'"),
        ({"feild": "value"}, "Did you mean 'field'"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make(options)


def test_vault_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="no notion of a vault name"):
        make(vault_name="prod")


def test_cli_url_override_is_named_as_such() -> None:
    vault = make({"url": "https://config:8200"}, overrides={"url": "https://cli:8200"})
    assert vault.settings.address == "https://cli:8200"
    assert vault.settings.address_source == "--vault-url"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VAULT_CLIENT_CERT": "/c.pem"}, "must be set together"),
        ({"VAULT_CAPATH": "/no/such/dir"}, "VAULT_CAPATH='/no/such/dir': no such directory"),
    ],
)
def test_bad_vault_environment_is_a_config_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.resolve({}, VaultContext(), env)


def test_building_the_backend_imports_no_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from envdrift import PluginRegistry, VaultContext; "
        "PluginRegistry().make_vault('hashicorp', {'url': 'https://v'}, VaultContext()); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'hvac', 'requests', 'urllib3'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_sdk_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hvac", None)  # import fails
    monkeypatch.setenv("VAULT_TOKEN", "any-token")
    vault = make({"url": "https://vault.example.com:8200"})
    with pytest.raises(ConfigError, match=r"pip install hvac"):
        vault.fetch("some-key")
