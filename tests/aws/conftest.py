"""Fixtures for the AWS backend's tests: a real moto_server, reached like real AWS.

One server per test session (per xdist worker), wiped before every test. The backend
finds it through ``AWS_ENDPOINT_URL`` and dummy credentials in the environment, exactly
as a user's shell would point boto3 somewhere; nothing in boto3 is patched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from envdrift import PluginRegistry, VaultContext
from envdrift_aws import AwsVault

from tests.servers.moto import create_iam_user, enforce_auth, moto_server, reset


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto_server for this session (one per xdist worker)."""
    with moto_server(log_dir=tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty moto and an environment that points boto3 at it (and nowhere else)."""
    reset(moto_endpoint)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # No test may wait for (or reach) an instance-metadata endpoint.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_endpoint


@pytest.fixture
def make_vault() -> Iterator[Callable[..., AwsVault]]:
    """Build ``aws`` vaults through the plugin registry, as envdrift does; closed afterwards."""
    made: list[AwsVault] = []

    def make(options: dict[str, Any] | None = None, **context: Any) -> AwsVault:
        vault = PluginRegistry().make_vault("aws", options or {}, VaultContext(**context))
        assert isinstance(vault, AwsVault)
        made.append(vault)
        return vault

    yield make
    for vault in made:
        vault.close()


@pytest.fixture(scope="session")
def sm(moto_endpoint: str) -> Any:
    """A plain boto3 Secrets Manager client on moto (us-east-1): what `aws` CLI users do.

    Built once, with explicit settings, so no test's environment changes what it does.
    """
    import boto3

    return boto3.Session().client(
        "secretsmanager",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def iam_user(moto_endpoint: str) -> Iterator[Callable[..., tuple[str, str]]]:
    """Create IAM users (allowed the given actions); enforcement starts with ``enforce()``.

    Enforcement is always switched off again afterwards, even when the test fails.
    """

    def create(name: str, *actions: str) -> tuple[str, str]:
        return create_iam_user(moto_endpoint, name, [f"secretsmanager:{a}" for a in actions])

    yield create
    enforce_auth(moto_endpoint, enabled=False)


@pytest.fixture
def enforce(moto_endpoint: str) -> Callable[[], None]:
    """Switch moto's IAM enforcement on (``iam_user`` switches it off at teardown)."""
    return lambda: enforce_auth(moto_endpoint, enabled=True)


def use_keys(monkeypatch: pytest.MonkeyPatch, keys: tuple[str, str]) -> None:
    """Make ``keys`` the credentials in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[1])


@dataclass
class CallLog:
    """The Secrets Manager actions a vault's client sent, in order (observed, not stubbed)."""

    actions: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return self.actions.count(action)


def record_calls(vault: AwsVault) -> CallLog:
    """Watch every request ``vault`` sends (retries included) through botocore's events."""
    log = CallLog()

    def seen(event_name: str, **_: Any) -> None:
        log.actions.append(event_name.rsplit(".", 1)[1])

    vault._client().meta.events.register("before-send.secrets-manager.*", seen)
    return log


def write_aws_files(home: Path, *, config: str = "", credentials: str = "") -> None:
    """Write ``~/.aws/config`` and ``~/.aws/credentials`` under ``home``."""
    (home / ".aws").mkdir(exist_ok=True)
    (home / ".aws" / "config").write_text(config)
    (home / ".aws" / "credentials").write_text(credentials)
