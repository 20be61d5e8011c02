"""Which vault a backend talks to and how it signs in: decided from config alone, before
any request (constructing a backend touches no network and no SDK)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from envdrift import ConfigError, PluginRegistry, VaultContext
from envdrift_azure import AzureVault
from envdrift_azure._errors import _Call


@pytest.fixture(autouse=True)
def _no_azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AUTHORITY_HOST", raising=False)


def build(
    options: dict[str, Any] | None = None,
    *,
    vault_name: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> AzureVault:
    context = VaultContext(base_dir=Path.cwd(), vault_name=vault_name, overrides=overrides or {})
    return AzureVault(options or {}, context)


def test_registered_as_azure_through_the_entry_point() -> None:
    vault = PluginRegistry().make_vault(
        "azure", {"vault_url": "https://my-keyvault.vault.azure.net/"}
    )
    assert isinstance(vault, AzureVault)
    assert vault.describe() == "vault 'azure' (https://my-keyvault.vault.azure.net/)"


def test_vault_url_from_config() -> None:
    assert build({"vault_url": "https://my-keyvault.vault.azure.net"}).vault_url == (
        "https://my-keyvault.vault.azure.net/"
    )


def test_vault_name_selects_the_public_cloud_vault() -> None:
    vault = build(vault_name="production-vault")
    assert vault.vault_url == "https://production-vault.vault.azure.net/"


def test_mapping_vault_name_overrides_the_configured_url() -> None:
    vault = build({"vault_url": "https://my-keyvault.vault.azure.net/"}, vault_name="prod-vault")
    assert vault.vault_url == "https://prod-vault.vault.azure.net/"


def test_command_line_vault_url_wins_over_the_config() -> None:
    vault = build(
        {"vault_url": "https://my-keyvault.vault.azure.net/"},
        overrides={"vault_url": "https://override.vault.azure.net"},
    )
    assert vault.vault_url == "https://override.vault.azure.net/"


def test_a_vault_name_wins_over_the_command_line_vault_url() -> None:
    # pair.txt's `production-vault/prod-key=…` next to `-p azure --vault-url …`
    vault = build(
        vault_name="production-vault", overrides={"vault_url": "https://override.vault.azure.net"}
    )
    assert vault.vault_url == "https://production-vault.vault.azure.net/"


@pytest.mark.parametrize(
    ("authority", "expected"),
    [
        ("login.chinacloudapi.cn", "https://kv-1.vault.azure.cn/"),
        ("https://login.microsoftonline.us/", "https://kv-1.vault.usgovcloudapi.net/"),
        ("https://login.microsoftonline.com", "https://kv-1.vault.azure.net/"),
    ],
)
def test_sovereign_cloud_follows_the_authority_host(
    monkeypatch: pytest.MonkeyPatch, authority: str, expected: str
) -> None:
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", authority)
    assert build(vault_name="kv-1").vault_url == expected
    monkeypatch.delenv("AZURE_AUTHORITY_HOST")
    assert build({"authority_host": authority}, vault_name="kv-1").vault_url == expected


def test_vault_url_template_for_other_clouds_and_private_names() -> None:
    vault = build(
        {"vault_url_template": "https://{name}.privatelink.example.com:8443"}, vault_name="kv-1"
    )
    assert vault.vault_url == "https://kv-1.privatelink.example.com:8443/"


@pytest.mark.parametrize(
    "template",
    [
        "https://vault.example.com/",
        "https://{name}.{name}.example.com",
        "https://{x}.{name}.example.com",
    ],
)
def test_bad_template_is_a_config_error(template: str) -> None:
    with pytest.raises(ConfigError, match=r"\{name\}"):
        build({"vault_url_template": template}, vault_name="kv-1")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://my-keyvault.vault.azure.net/", "must start with https://"),
        ("my-keyvault", "is a vault name, not a URL"),
        ("https://my-keyvault.vault.azure.net/secrets/x", "no path"),
        ("https://:443/", "not a valid URL"),
    ],
)
def test_bad_vault_url_is_a_config_error(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build({"vault_url": url})
    with pytest.raises(ConfigError, match="--vault-url"):
        build(overrides={"vault_url": url})


@pytest.mark.parametrize("name", ["ab", "1vault", "vault-", "my--vault", "x" * 25, "my_vault"])
def test_invalid_vault_name_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError, match="not a valid Key Vault name"):
        build(vault_name=name)


def test_vault_name_that_is_a_url_is_explained() -> None:
    with pytest.raises(ConfigError, match="vault_url"):
        build(vault_name="https://my-keyvault.vault.azure.net")


def test_no_vault_at_all_says_what_to_set() -> None:
    with pytest.raises(ConfigError) as info:
        build()
    message = str(info.value)
    assert "[vault.azure] vault_url" in message
    assert "vault_name" in message
    assert "--vault-url" in message


def test_unknown_option_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'vault_url'"):
        build({"vault_uri": "https://my-keyvault.vault.azure.net/"})


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_challenge_setting_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE", value)
    with pytest.raises(ConfigError, match="ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE"):
        build({"vault_url": "https://my-keyvault.vault.azure.net/"})


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("DB_URL", "DB-URL"), ("myapp_dotenvx_key", "myapp-dotenvx-key"), ("a/b", "a-b")],
)
def test_secret_names_outside_key_vaults_rule_get_a_suggestion(name: str, suggestion: str) -> None:
    vault = build({"vault_url": "https://my-keyvault.vault.azure.net/"})
    with pytest.raises(ConfigError, match=f"use '{suggestion}' instead"):
        vault.fetch(name)


def test_over_long_secret_name_is_refused() -> None:
    vault = build({"vault_url": "https://my-keyvault.vault.azure.net/"})
    with pytest.raises(ConfigError, match="128 characters"):
        vault.fetch("k" * 128)


def test_az_commands_name_the_vault_when_the_host_has_its_name() -> None:
    public = _Call("get", "vault 'azure'", "https://my-keyvault.vault.azure.net/", "k")
    assert public.az_vault == "--vault-name my-keyvault"
    china = _Call("get", "vault 'azure'", "https://kv-1.vault.azure.cn/", "k")
    assert china.az_vault == "--vault-name kv-1"
    other = _Call("get", "vault 'azure'", "https://127.0.0.1:8443/", "k")
    assert other.az_vault == "--id https://127.0.0.1:8443/"


def test_a_missing_sdk_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.keyvault.secrets", None)  # import fails
    vault = build({"vault_url": "https://my-keyvault.vault.azure.net/"})
    with pytest.raises(ConfigError, match=r"pip install azure-identity azure-keyvault-secrets"):
        vault.fetch("some-key")
