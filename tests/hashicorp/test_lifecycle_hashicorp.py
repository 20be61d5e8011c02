"""The key lifecycle against OpenBao, the real Vault-API server.

Keys are stored the ways Vault users store them, with the real CLI (OpenBao's ``bao``,
which ``vault`` is a drop-in for): ``bao kv put secret/x value=<hex>``, and a lone
``DOTENV_PRIVATE_KEY_<ENV>=<hex>`` field. A refused write is a token whose policy grants
``read`` only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from envdrift_hashicorp import HashicorpVault

from tests.lifecycle_scenarios import KEY_NAME, LifecycleScenarios, VaultService
from tests.servers.openbao import OpenBao

#: Where the conftest's ``envdrift-reader`` policy grants ``read`` (and nothing else).
READABLE = "readable"


class OpenBaoService(VaultService):
    provider = "hashicorp"
    forms = ("value", "field")
    refused_write = "needs 'create' and 'update' on secret/data/readable/"
    vault_class = HashicorpVault

    def __init__(self, server: OpenBao, reader_token: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server, self.reader_token, self.monkeypatch = server, reader_token, monkeypatch
        self.prefix = f"{READABLE}/{uuid.uuid4().hex[:10]}"

    def secret(self) -> str:
        return f"{self.prefix}/app-key"

    def options(self) -> Mapping[str, str]:
        return {"url": self.server.address}

    def put(self, secret: str, value: str) -> None:
        self.server.kv_put(f"secret/{secret}", value=value)

    def write_form(self, secret: str, form: str, key: str) -> None:
        field = {"value": "value", "field": KEY_NAME}[form]
        self.server.cli("kv", "put", f"secret/{secret}", f"{field}={key}")

    def current(self, secret: str) -> str | None:
        try:
            return _as_stored(self.server.kv_get(f"secret/{secret}"))
        except OSError as exc:  # urllib's HTTPError: 404 for a missing secret
            if getattr(exc, "code", None) == 404:
                return None
            raise

    def older(self, secret: str) -> list[str]:
        metadata = self.server.api("GET", f"secret/metadata/{secret}")["data"]
        return [
            _as_stored(self.server.kv_get(f"secret/{secret}", version=int(version)))
            for version in metadata["versions"]
            if int(version) != metadata["current_version"]
        ]

    @contextmanager
    def read_only(self) -> Iterator[None]:
        with self.monkeypatch.context() as patch:
            patch.setenv("VAULT_TOKEN", self.reader_token)
            yield


def _as_stored(fields: dict[str, Any]) -> str:
    """A version as its value (``value`` alone) or its fields as JSON (any other shape)."""
    if set(fields) == {"value"}:
        return str(fields["value"])
    return json.dumps(fields, sort_keys=True)


class OpenBaoServiceFixture:
    """The ``service`` fixture of the scenario classes run against OpenBao."""

    @pytest.fixture
    def service(
        self, vault_env: OpenBao, reader_token: str, monkeypatch: pytest.MonkeyPatch
    ) -> OpenBaoService:
        return OpenBaoService(vault_env, reader_token, monkeypatch)


class TestLifecycleHashicorp(OpenBaoServiceFixture, LifecycleScenarios):
    @pytest.fixture(params=OpenBaoService.forms)
    def form(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)
