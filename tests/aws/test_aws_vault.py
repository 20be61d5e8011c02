"""Reading, writing and listing AWS Secrets Manager secrets through the ``aws`` vault."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
from envdrift import ConfigError, FormatError, NotFoundError, Secret
from envdrift_aws import AwsVault

from tests.aws.conftest import record_calls

KEY = "5e" * 32


def test_round_trip_is_visible_to_other_aws_clients(
    make_vault: Callable[..., AwsVault], sm: Any
) -> None:
    vault = make_vault()
    vault.store("myapp-dotenvx-key", Secret(KEY))
    assert sm.get_secret_value(SecretId="myapp-dotenvx-key")["SecretString"] == KEY
    assert vault.fetch("myapp-dotenvx-key").reveal() == KEY


def test_reads_what_the_aws_cli_wrote(make_vault: Callable[..., AwsVault], sm: Any) -> None:
    sm.create_secret(Name="cli-written", SecretString=KEY)
    assert make_vault().fetch("cli-written").reveal() == KEY


def test_store_puts_a_new_version_and_keeps_the_previous(
    make_vault: Callable[..., AwsVault], sm: Any
) -> None:
    vault = make_vault()
    vault.store("rotated", Secret("old-key"))
    log = record_calls(vault)
    vault.store("rotated", Secret("new-key"))
    assert log.actions == ["PutSecretValue"]
    assert vault.fetch("rotated").reveal() == "new-key"
    previous = sm.get_secret_value(SecretId="rotated", VersionStage="AWSPREVIOUS")
    assert previous["SecretString"] == "old-key"
    stages = [
        v["VersionStages"] for v in sm.list_secret_version_ids(SecretId="rotated")["Versions"]
    ]
    assert sorted(map(tuple, stages)) == [("AWSCURRENT",), ("AWSPREVIOUS",)]


def test_store_creates_a_missing_secret(make_vault: Callable[..., AwsVault], sm: Any) -> None:
    vault = make_vault()
    log = record_calls(vault)
    vault.store("brand-new", Secret(KEY))
    assert log.actions == ["PutSecretValue", "CreateSecret"]
    assert sm.describe_secret(SecretId="brand-new")["Name"] == "brand-new"


def test_utf8_binary_secret_is_read_as_text(make_vault: Callable[..., AwsVault], sm: Any) -> None:
    sm.create_secret(Name="binary-text", SecretBinary=f"DOTENV_PRIVATE_KEY={KEY}".encode())
    assert make_vault().fetch("binary-text").reveal() == f"DOTENV_PRIVATE_KEY={KEY}"


def test_non_utf8_binary_secret_is_a_clear_error(
    make_vault: Callable[..., AwsVault], sm: Any
) -> None:
    sm.create_secret(Name="binary-blob", SecretBinary=b"\xff\xfe\x00secret\x80")
    with pytest.raises(FormatError) as info:
        make_vault().fetch("binary-blob")
    message = str(info.value)
    assert "'binary-blob'" in message
    assert "not UTF-8" in message
    assert "--secret-string" in message
    assert "\\x" not in message


def test_not_found_names_secret_region_and_how_to_look(
    make_vault: Callable[..., AwsVault],
) -> None:
    with pytest.raises(NotFoundError) as info:
        make_vault({"region": "eu-west-1"}).fetch("nope-dotenvx-key")
    assert str(info.value) == (
        "secret 'nope-dotenvx-key' not found in vault 'aws' (region eu-west-1); see which "
        "secrets exist there with: aws secretsmanager list-secrets --region eu-west-1"
    )


def test_secret_scheduled_for_deletion_says_how_to_restore(
    make_vault: Callable[..., AwsVault], sm: Any
) -> None:
    sm.create_secret(Name="doomed", SecretString=KEY)
    sm.delete_secret(SecretId="doomed", RecoveryWindowInDays=7)
    with pytest.raises(
        NotFoundError, match=r"scheduled for deletion.*restore-secret --secret-id doomed"
    ):
        make_vault().fetch("doomed")


def test_list_follows_pages_and_filters_by_prefix(
    make_vault: Callable[..., AwsVault], sm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import envdrift_aws.vault

    monkeypatch.setattr(envdrift_aws.vault, "LIST_PAGE_SIZE", 4)
    wanted = [f"team/dev/key-{i:02d}" for i in range(11)]
    for name in [*wanted, "team/prod/key", "other", "Team/dev/upper"]:
        sm.create_secret(Name=name, SecretString="v")
    vault = make_vault()
    log = record_calls(vault)
    assert vault.list("team/dev/") == wanted
    assert log.count("ListSecrets") == 3  # 11 names, 4 per page
    assert vault.list() == sorted([*wanted, "team/prod/key", "other", "Team/dev/upper"])


def test_list_with_a_prefix_the_service_cannot_filter_is_still_exact(
    make_vault: Callable[..., AwsVault], sm: Any
) -> None:
    # A leading "!" would negate the service's name filter; such prefixes filter locally.
    for name in ["!bang-1", "!bang-2", "bang-3"]:
        sm.create_secret(Name=name, SecretString="v")
    assert make_vault().list("!bang") == ["!bang-1", "!bang-2"]


def test_secrets_in_other_regions_are_not_seen(
    make_vault: Callable[..., AwsVault], sm: Any
) -> None:
    make_vault({"region": "eu-central-1"}).store("regional", Secret(KEY))
    with pytest.raises(NotFoundError, match=r"region us-east-1"):
        make_vault().fetch("regional")
    assert make_vault({"region": "eu-central-1"}).list() == ["regional"]


def test_check_passes_against_a_reachable_endpoint(make_vault: Callable[..., AwsVault]) -> None:
    vault = make_vault()
    log = record_calls(vault)
    vault.check()
    assert log.actions == ["ListSecrets"]


def test_close_then_use_again_builds_a_new_client(make_vault: Callable[..., AwsVault]) -> None:
    vault = make_vault()
    vault.store("reopened", Secret(KEY))
    vault.close()
    assert vault.fetch("reopened").reveal() == KEY


def test_unknown_option_is_a_config_error_with_suggestion(
    make_vault: Callable[..., AwsVault],
) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'region'"):
        make_vault({"regoin": "eu-west-1"})


@pytest.mark.parametrize("options", [{"region": 5}, {"profile": ["a"]}, {"region": " "}])
def test_bad_option_values_are_config_errors(
    make_vault: Callable[..., AwsVault], options: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match=r"\[vault.aws\]"):
        make_vault(options)


def test_vault_name_is_refused(make_vault: Callable[..., AwsVault]) -> None:
    with pytest.raises(ConfigError, match="no notion of a vault name"):
        make_vault(vault_name="prod-vault")


def test_a_missing_sdk_says_how_to_install_it(
    make_vault: Callable[..., AwsVault], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)  # import fails
    vault = make_vault({"region": "eu-west-1"})
    with pytest.raises(ConfigError, match=r"pip install boto3"):
        vault.fetch("some-key")
    for result in vault.fetch_many(["one", "two"]).values():  # the batch path too
        assert isinstance(result, ConfigError)
        assert "pip install boto3" in str(result)
