"""Errors users must understand: denied actions, missing credentials, an unreachable or
failing service. Denials come from moto's real IAM enforcement; faults from a real proxy."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from envdrift import NotFoundError, PermissionDeniedError, RetryPolicy, Secret, UnavailableError
from envdrift_aws import AwsVault

from tests.aws.conftest import record_calls, use_keys
from tests.servers import free_port
from tests.servers.proxy import Faults, TcpProxy

KEY = "c3" * 32
#: What the user guide's IAM policy grants.
GUIDE_POLICY = ("GetSecretValue", "ListSecrets")


@pytest.fixture
def stored(sm: Any) -> str:
    sm.create_secret(Name="app-dotenvx-key", SecretString=KEY)
    return "app-dotenvx-key"


def test_denied_read_names_the_action_the_secret_and_the_region(
    make_vault: Callable[..., AwsVault],
    stored: str,
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("lister", "ListSecrets"))
    enforce()
    with pytest.raises(PermissionDeniedError) as info:
        make_vault().fetch(stored)
    message = str(info.value)
    assert "secretsmanager:GetSecretValue" in message
    assert "secret 'app-dotenvx-key'" in message
    assert "region us-east-1" in message
    assert "<" not in message  # moto's XML body is not pasted into the message


def test_guide_policy_reads_but_may_not_write(
    make_vault: Callable[..., AwsVault],
    stored: str,
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("reader", *GUIDE_POLICY))
    enforce()
    vault = make_vault()
    assert vault.fetch(stored).reveal() == KEY
    assert vault.list() == [stored]
    with pytest.raises(
        PermissionDeniedError,
        match=r"refused secretsmanager:PutSecretValue on secret 'app-dotenvx-key'",
    ):
        vault.store(stored, Secret("new-value"))


def test_denied_create_names_create_secret(
    make_vault: Callable[..., AwsVault],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("putter", "PutSecretValue"))
    enforce()
    with pytest.raises(PermissionDeniedError, match=r"refused secretsmanager:CreateSecret"):
        make_vault().store("not-there-yet", Secret(KEY))


def test_denied_list_names_list_secrets(
    make_vault: Callable[..., AwsVault],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("getter", "GetSecretValue"))
    enforce()
    with pytest.raises(
        PermissionDeniedError, match=r"refused secretsmanager:ListSecrets on the secret list"
    ):
        make_vault().list()


def test_unknown_access_key_is_rejected_credentials(
    make_vault: Callable[..., AwsVault],
    stored: str,
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
) -> None:
    iam_user("someone", *GUIDE_POLICY)
    enforce()  # the environment still holds the dummy key "testing", unknown to IAM
    with pytest.raises(PermissionDeniedError) as info:
        make_vault().fetch(stored)
    assert "AWS rejected the credentials (InvalidClientTokenId)" in str(info.value)
    assert "secretsmanager:GetSecretValue on secret 'app-dotenvx-key'" in str(info.value)


def test_check_passes_with_only_get_secret_value(
    make_vault: Callable[..., AwsVault],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A denial proves the credentials are real and the endpoint answers.
    use_keys(monkeypatch, iam_user("getter", "GetSecretValue"))
    enforce()
    make_vault().check()


def test_check_fails_for_credentials_aws_does_not_know(
    make_vault: Callable[..., AwsVault],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
) -> None:
    iam_user("someone", *GUIDE_POLICY)
    enforce()
    with pytest.raises(PermissionDeniedError, match="rejected the credentials"):
        make_vault().check()


def test_no_credentials_says_how_to_provide_them(
    make_vault: Callable[..., AwsVault], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    vault = make_vault()
    for call in (lambda: vault.fetch("k"), vault.check, lambda: vault.store("k", Secret(KEY))):
        with pytest.raises(PermissionDeniedError) as info:
            call()
        message = str(info.value)
        assert message.startswith("no AWS credentials found for vault 'aws' (region us-east-1)")
        for way in (
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "[vault.aws] profile",
            "aws sso login",
            "IAM role",
        ):
            assert way in message


def test_no_credentials_with_a_profile_says_the_environment_is_not_used(
    make_vault: Callable[..., AwsVault], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.aws.conftest import write_aws_files

    monkeypatch.setenv("HOME", str(tmp_path))
    write_aws_files(tmp_path, config="[profile bare]\nregion = eu-west-1\n")
    with pytest.raises(PermissionDeniedError, match=r"in AWS profile 'bare'.*are not used"):
        make_vault({"profile": "bare"}).fetch("k")


def test_unreachable_endpoint_is_unavailable(
    make_vault: Callable[..., AwsVault], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    with pytest.raises(UnavailableError) as info:
        make_vault(retry=RetryPolicy(retries=0)).fetch("k")
    assert closed in str(info.value)
    assert re.search(r"\(gave up after 1 attempt in \d+\.\d s: retries are off", str(info.value))
    assert info.value.transient


def test_server_errors_are_retried_until_one_succeeds(
    make_vault: Callable[..., AwsVault],
    sm: Any,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sm.create_secret(Name="flaky", SecretString=KEY)
    port = int(moto_endpoint.rsplit(":", 1)[1])
    # With seed 4 the first request draws an error and the second goes through.
    faults = Faults(error_rate=0.5, error_statuses=(503,), seed=4)
    with TcpProxy("127.0.0.1", port, faults=faults) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{proxy.port}")
        vault = make_vault()
        log = record_calls(vault)
        assert vault.fetch("flaky").reveal() == KEY
    assert proxy.stats.errors == 1
    assert log.actions == ["GetSecretValue", "GetSecretValue"]


def test_persistent_server_errors_end_in_a_clear_unavailable_error(
    make_vault: Callable[..., AwsVault], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(moto_endpoint.rsplit(":", 1)[1])
    with TcpProxy("127.0.0.1", port, faults=Faults(error_rate=1.0, error_statuses=(503,))) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(UnavailableError) as info:
            make_vault(retry=RetryPolicy(retries=1, backoff=0.01)).fetch("app-dotenvx-key")
    assert proxy.stats.errors == 2
    assert re.fullmatch(
        r"vault 'aws' \(region us-east-1\) is unavailable: secretsmanager:GetSecretValue on "
        r"secret 'app-dotenvx-key' failed with HTTP 503; try again later "
        r"\(gave up after 2 attempts in \d+\.\d s: no retries left\)",
        str(info.value),
    )


def test_a_silent_server_times_out_per_the_context(
    make_vault: Callable[..., AwsVault], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(moto_endpoint.rsplit(":", 1)[1])
    with TcpProxy("127.0.0.1", port, faults=Faults(hang_rate=1.0)) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(UnavailableError, match="ReadTimeoutError"):
            make_vault(timeout=1.0, retry=RetryPolicy(retries=0)).fetch("k")
    assert proxy.stats.hangs == 1


def test_errors_never_carry_the_value(
    make_vault: Callable[..., AwsVault],
    stored: str,
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = "value-marker-" + "9" * 20
    use_keys(monkeypatch, iam_user("reader", *GUIDE_POLICY))
    enforce()
    with pytest.raises(PermissionDeniedError) as info:
        make_vault().store(stored, Secret(marker))
    assert marker not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert marker not in repr(info.value)


def test_not_found_is_not_confused_with_denied(
    make_vault: Callable[..., AwsVault],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("reader", *GUIDE_POLICY))
    enforce()
    with pytest.raises(NotFoundError):
        make_vault().fetch("missing-dotenvx-key")


def test_credentials_that_fail_to_load_are_an_error_on_each_call(
    make_vault: Callable[..., AwsVault], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore runs a profile's credential_process while building the client.
    from tests.aws.conftest import write_aws_files

    monkeypatch.setenv("HOME", str(tmp_path))
    write_aws_files(tmp_path, config="[profile broken]\ncredential_process = /bin/false\n")
    vault = make_vault({"profile": "broken"})
    for action, call in (
        ("GetSecretValue on secret 'k'", lambda: vault.fetch("k")),
        ("PutSecretValue on secret 'k'", lambda: vault.store("k", Secret(KEY))),
        ("ListSecrets", vault.list),
        ("ListSecrets", vault.check),
    ):
        with pytest.raises(PermissionDeniedError, match="could not obtain AWS credentials") as info:
            call()
        assert f"secretsmanager:{action}" in str(info.value)
    results = vault.fetch_many(["a", "b"])
    for name in ("a", "b"):
        assert isinstance(results[name], PermissionDeniedError)
        assert f"on secret {name!r}" in str(results[name])
