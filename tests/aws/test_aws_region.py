"""Where the ``aws`` vault goes: region, profile and endpoint precedence.

Region: ``--region`` > ``[vault.aws] region`` > ``AWS_REGION`` > ``AWS_DEFAULT_REGION`` >
the profile's region > ``us-east-1``. The endpoint comes only from boto3's own settings.
Each case is also checked against moto, which keeps one set of secrets per region.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from envdrift import ConfigError, Secret
from envdrift_aws import AwsVault

from tests.aws.conftest import write_aws_files

KEY = "a1" * 32

PROFILES = """\
[default]
region = ap-south-1

[profile dev]
region = eu-central-1
"""

DEV_CREDENTIALS = "[dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n"


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    # An explicitly chosen profile ignores credentials in the environment, like `--profile`.
    write_aws_files(tmp_path, config=PROFILES, credentials=DEV_CREDENTIALS)
    return tmp_path


@pytest.mark.parametrize(
    ("options", "overrides", "env", "expected"),
    [
        (
            {"region": "eu-west-1"},
            {"region": "ca-central-1"},
            {"AWS_REGION": "sa-east-1"},
            "ca-central-1",
        ),
        ({"region": "eu-west-1"}, {}, {"AWS_REGION": "sa-east-1"}, "eu-west-1"),
        ({}, {}, {"AWS_REGION": "sa-east-1", "AWS_DEFAULT_REGION": "us-west-2"}, "sa-east-1"),
        ({}, {}, {"AWS_DEFAULT_REGION": "us-west-2", "AWS_PROFILE": "dev"}, "us-west-2"),
        ({"profile": "dev"}, {}, {}, "eu-central-1"),
        ({}, {}, {"AWS_PROFILE": "dev"}, "eu-central-1"),
        ({}, {}, {}, "ap-south-1"),
    ],
    ids=[
        "flag",
        "config",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "profile-option",
        "AWS_PROFILE",
        "default-profile",
    ],
)
def test_region_precedence(
    make_vault: Callable[..., AwsVault],
    sm: Any,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, str],
    overrides: dict[str, str],
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    vault = make_vault(options, overrides=overrides)
    assert vault.region == expected
    assert f"region {expected}" in vault.describe()
    vault.store("where", Secret(KEY))
    # The secret really went to that region of the server and nowhere else.
    assert sm.list_secrets()["SecretList"] == []
    import boto3

    there = boto3.Session().client("secretsmanager", region_name=expected)
    assert there.get_secret_value(SecretId="where")["SecretString"] == KEY


def test_without_any_region_setting_it_is_us_east_1(
    make_vault: Callable[..., AwsVault], sm: Any
) -> None:
    vault = make_vault()
    assert vault.region == "us-east-1"
    vault.store("default-region", Secret(KEY))
    assert sm.get_secret_value(SecretId="default-region")["SecretString"] == KEY


def test_a_region_flag_of_none_does_not_hide_the_config(
    make_vault: Callable[..., AwsVault],
) -> None:
    assert make_vault({"region": "eu-north-1"}, overrides={"region": None}).region == "eu-north-1"


def test_profile_credentials_are_used(
    make_vault: Callable[..., AwsVault],
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
) -> None:
    key_id, secret = iam_user("profile-reader", "GetSecretValue", "PutSecretValue", "CreateSecret")
    write_aws_files(
        home,
        config=PROFILES,
        credentials=f"[dev]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n",
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    enforce()
    vault = make_vault({"profile": "dev"})
    vault.store("via-profile", Secret(KEY))
    assert vault.fetch("via-profile").reveal() == KEY


def test_unknown_profile_is_a_config_error_listing_profiles(
    make_vault: Callable[..., AwsVault], home: Path
) -> None:
    vault = make_vault({"profile": "prdo"})
    with pytest.raises(ConfigError) as info:
        vault.fetch("anything")
    assert "AWS profile 'prdo'" in str(info.value)
    assert "default, dev" in str(info.value)
    assert "region unresolved" in repr(vault)


def test_endpoint_from_the_service_specific_variable(
    make_vault: Callable[..., AwsVault], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    vault = make_vault()
    vault.store("specific-endpoint", Secret(KEY))
    assert vault.fetch("specific-endpoint").reveal() == KEY


def test_endpoint_from_the_profile(
    make_vault: Callable[..., AwsVault],
    moto_endpoint: str,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    write_aws_files(
        home,
        config=f"[profile local]\nregion = eu-west-3\nendpoint_url = {moto_endpoint}\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    vault = make_vault({"profile": "local"})
    vault.store("profile-endpoint", Secret(KEY))
    assert vault.fetch("profile-endpoint").reveal() == KEY
    assert vault.region == "eu-west-3"


def test_unknown_aws_profile_variable_is_named_as_the_source(
    make_vault: Callable[..., AwsVault], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "gone")
    with pytest.raises(ConfigError, match=r"AWS profile 'gone' \(from AWS_PROFILE\)"):
        make_vault().check()


@pytest.mark.parametrize(
    ("options", "env", "shown"),
    [
        ({"region": "not a region!"}, {}, "doesn't match"),
        ({}, {"AWS_ENDPOINT_URL": "nohost"}, "nohost"),
    ],
)
def test_malformed_region_or_endpoint_is_a_config_error(
    make_vault: Callable[..., AwsVault],
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, str],
    env: dict[str, str],
    shown: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=shown):
        make_vault(options).fetch("k")
