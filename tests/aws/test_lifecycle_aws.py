"""The key lifecycle against AWS Secrets Manager (a real moto_server).

Keys are stored the way AWS users store them: ``aws secretsmanager create-secret
--secret-string <hex>`` (then ``put-secret-value`` for new versions), or the whole
``DOTENV_PRIVATE_KEY_<ENV>=<hex>`` line that envdrift 1.x pushed. A refused write is
moto's IAM enforcement with a user allowed to read but not to ``PutSecretValue``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from envdrift_aws import AwsVault

from tests.aws.conftest import use_keys
from tests.lifecycle_scenarios import LifecycleScenarios, VaultService


class MotoService(VaultService):
    provider = "aws"
    forms = ("bare", "line")
    refused_write = "refused secretsmanager:PutSecretValue"
    vault_class = AwsVault

    def __init__(
        self,
        sm: Any,
        iam_user: Callable[..., tuple[str, str]],
        enforce: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.sm, self.iam_user, self.enforce, self.monkeypatch = sm, iam_user, enforce, monkeypatch

    def secret(self) -> str:
        return "app-dotenvx-key"  # moto is wiped before every test

    def options(self) -> Mapping[str, str]:
        return {"region": "us-east-1"}

    def put(self, secret: str, value: str) -> None:
        try:
            self.sm.put_secret_value(SecretId=secret, SecretString=value)
        except self.sm.exceptions.ResourceNotFoundException:
            self.sm.create_secret(Name=secret, SecretString=value)

    def current(self, secret: str) -> str | None:
        try:
            value: str = self.sm.get_secret_value(SecretId=secret)["SecretString"]
        except self.sm.exceptions.ResourceNotFoundException:
            return None
        return value

    def older(self, secret: str) -> list[str]:
        versions = self.sm.list_secret_version_ids(SecretId=secret, IncludeDeprecated=True)
        return [
            self.sm.get_secret_value(SecretId=secret, VersionId=v["VersionId"])["SecretString"]
            for v in versions["Versions"]
            if "AWSCURRENT" not in v.get("VersionStages", [])
        ]

    @contextmanager
    def read_only(self) -> Iterator[None]:
        reader = self.iam_user("reader", "GetSecretValue", "BatchGetSecretValue", "ListSecrets")
        with self.monkeypatch.context() as patch:
            use_keys(patch, reader)
            self.enforce()
            try:
                yield
            finally:
                from tests.servers.moto import enforce_auth

                enforce_auth(self.sm.meta.endpoint_url, enabled=False)


class MotoServiceFixture:
    """The ``service`` fixture of the scenario classes run against moto."""

    @pytest.fixture
    def service(
        self,
        sm: Any,
        iam_user: Callable[..., tuple[str, str]],
        enforce: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> MotoService:
        return MotoService(sm, iam_user, enforce, monkeypatch)


class TestLifecycleAws(MotoServiceFixture, LifecycleScenarios):
    @pytest.fixture(params=MotoService.forms)
    def form(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)
