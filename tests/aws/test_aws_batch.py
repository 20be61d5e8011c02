"""``fetch_many``: BatchGetSecretValue in concurrent batches of 20, and the fallback to
single reads where the identity may not batch (the user guide's IAM policy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from envdrift import FormatError, NotFoundError, PermissionDeniedError, Secret
from envdrift_aws import AwsVault

from tests.aws.conftest import record_calls, use_keys

GUIDE_POLICY = ("GetSecretValue", "ListSecrets")


def key_for(i: int) -> str:
    return f"{i:064x}"


@pytest.fixture
def secrets(sm: Any) -> list[str]:
    names = [f"svc-{i:03d}-dotenvx-key" for i in range(45)]
    for i, name in enumerate(names):
        sm.create_secret(Name=name, SecretString=key_for(i))
    return names


def values(results: dict[str, Any]) -> dict[str, str]:
    return {name: r.reveal() for name, r in results.items() if isinstance(r, Secret)}


def test_batches_of_twenty_with_an_error_per_missing_name(
    make_vault: Callable[..., AwsVault], secrets: list[str]
) -> None:
    vault = make_vault()
    log = record_calls(vault)
    wanted = [*secrets, "absent-1", secrets[0], "absent-2"]  # a duplicate is fetched once
    results = vault.fetch_many(wanted)
    assert list(results) == [*secrets, "absent-1", "absent-2"]
    assert values(results) == {name: key_for(i) for i, name in enumerate(secrets)}
    for name in ("absent-1", "absent-2"):
        error = results[name]
        assert isinstance(error, NotFoundError)
        assert f"secret {name!r} not found in vault 'aws' (region us-east-1)" in str(error)
    assert log.actions == ["BatchGetSecretValue"] * 3  # 47 names: 20 + 20 + 7


def test_batch_by_arn_maps_back_to_the_arn_asked_for(
    make_vault: Callable[..., AwsVault], sm: Any, secrets: list[str]
) -> None:
    arn = sm.describe_secret(SecretId=secrets[3])["ARN"]
    results = make_vault().fetch_many([arn, secrets[4]])
    assert values(results) == {arn: key_for(3), secrets[4]: key_for(4)}


def test_binary_values_in_a_batch(make_vault: Callable[..., AwsVault], sm: Any) -> None:
    sm.create_secret(Name="text-bin", SecretBinary=key_for(1).encode())
    sm.create_secret(Name="blob-bin", SecretBinary=b"\xff\x00\xfe")
    sm.create_secret(Name="plain", SecretString=key_for(2))
    results = make_vault().fetch_many(["text-bin", "blob-bin", "plain"])
    assert values(results) == {"text-bin": key_for(1), "plain": key_for(2)}
    assert isinstance(results["blob-bin"], FormatError)


def test_falls_back_to_single_reads_when_batch_is_denied(
    make_vault: Callable[..., AwsVault],
    secrets: list[str],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("reader", *GUIDE_POLICY))
    enforce()
    vault = make_vault()
    log = record_calls(vault)
    results = vault.fetch_many([*secrets, "absent"], jobs=1)
    assert values(results) == {name: key_for(i) for i, name in enumerate(secrets)}
    assert isinstance(results["absent"], NotFoundError)
    # With one worker the first denial stops the other batches from being tried.
    assert log.count("BatchGetSecretValue") == 1
    assert log.count("GetSecretValue") == len(secrets) + 1
    # The vault remembers: the next call goes straight to single reads.
    log.actions.clear()
    assert values(vault.fetch_many(secrets[:2])) == {secrets[0]: key_for(0), secrets[1]: key_for(1)}
    assert log.actions == ["GetSecretValue", "GetSecretValue"]


def test_concurrent_batches_fall_back_together(
    make_vault: Callable[..., AwsVault],
    secrets: list[str],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("reader", *GUIDE_POLICY))
    enforce()
    results = make_vault().fetch_many(secrets, jobs=8)
    assert values(results) == {name: key_for(i) for i, name in enumerate(secrets)}


def test_batch_allowed_uses_batches_only(
    make_vault: Callable[..., AwsVault],
    secrets: list[str],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("batcher", "BatchGetSecretValue", *GUIDE_POLICY))
    enforce()
    vault = make_vault()
    log = record_calls(vault)
    assert len(values(vault.fetch_many(secrets))) == len(secrets)
    assert log.actions == ["BatchGetSecretValue"] * 3


def test_no_read_permission_at_all_is_an_error_per_name(
    make_vault: Callable[..., AwsVault],
    secrets: list[str],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("lister", "ListSecrets"))
    enforce()
    results = make_vault().fetch_many(secrets[:3])
    for name in secrets[:3]:
        error = results[name]
        assert isinstance(error, PermissionDeniedError)
        assert f"refused secretsmanager:GetSecretValue on secret {name!r}" in str(error)


def test_bad_credentials_do_not_fall_back(
    make_vault: Callable[..., AwsVault],
    secrets: list[str],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
) -> None:
    iam_user("someone", *GUIDE_POLICY)
    enforce()  # the dummy key "testing" is unknown to IAM: single reads would fail too
    vault = make_vault()
    log = record_calls(vault)
    results = vault.fetch_many(secrets[:25])
    assert all(isinstance(r, PermissionDeniedError) for r in results.values())
    assert "rejected the credentials" in str(results[secrets[0]])
    assert log.actions == ["BatchGetSecretValue"] * 2


def test_one_name_is_a_single_read(make_vault: Callable[..., AwsVault], secrets: list[str]) -> None:
    vault = make_vault()
    log = record_calls(vault)
    assert values(vault.fetch_many([secrets[0]])) == {secrets[0]: key_for(0)}
    assert log.actions == ["GetSecretValue"]


def test_no_credentials_is_an_error_per_name(
    make_vault: Callable[..., AwsVault], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    results = make_vault().fetch_many(["a", "b"])
    for name in ("a", "b"):
        assert isinstance(results[name], PermissionDeniedError)
        assert f"on secret {name!r}" in str(results[name])
