"""Fixtures for the ``hashicorp`` backend's tests: a real OpenBao dev server per worker."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from envdrift import PluginRegistry, VaultContext
from envdrift_hashicorp import HashicorpVault

from tests.servers.openbao import OpenBao, openbao_server

#: A policy that may read (not list, not write) under secret/data/readable/.
READER_POLICY = 'path "secret/data/readable/*" { capabilities = ["read"] }\n'
#: Mounts the tests use besides the dev server's own KV v2 mount at secret/.
EXTRA_MOUNTS = {"team": "kv-v2", "legacy": "kv"}  # "kv" is KV version 1


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    """One OpenBao dev server per test worker, with the mounts and policy tests use."""
    with openbao_server(tmp_path_factory.mktemp("openbao")) as server:
        # The HTTP API rather than `bao secrets enable`/`bao policy write`: same effect,
        # without starting the 170 MB CLI binary for each call.
        for path, engine in EXTRA_MOUNTS.items():
            server.api("POST", f"sys/mounts/{path}", {"type": engine})
        server.api("POST", "sys/policies/acl/envdrift-reader", {"policy": READER_POLICY})
        yield server


@pytest.fixture(autouse=True)
def _no_ambient_vault_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set exactly the Vault variables they mean (HOME is isolated by the root conftest)."""
    for name in list(os.environ):
        if name.startswith(("VAULT_", "BAO_")):
            monkeypatch.delenv(name)


@pytest.fixture
def vault_env(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch) -> OpenBao:
    """Point VAULT_ADDR and VAULT_TOKEN (root) at the server, as a logged-in user would."""
    monkeypatch.setenv("VAULT_ADDR", openbao.address)
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    return openbao


@pytest.fixture
def make_vault(tmp_path: Path) -> Iterator[Callable[..., HashicorpVault]]:
    """Build ``hashicorp`` vaults through the plugin registry (the entry point), closed after."""
    made: list[HashicorpVault] = []

    def make(options: dict[str, Any] | None = None, **context: Any) -> HashicorpVault:
        context.setdefault("base_dir", tmp_path)
        vault = PluginRegistry().make_vault("hashicorp", options or {}, VaultContext(**context))
        assert isinstance(vault, HashicorpVault)
        made.append(vault)
        return vault

    yield make
    for vault in made:
        vault.close()


@pytest.fixture
def uid() -> str:
    """A fresh path component, so tests sharing a server never see each other's secrets."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def reader_token(openbao: OpenBao) -> str:
    """A token holding only the ``envdrift-reader`` policy (and Vault's default policy)."""
    answer = openbao.api("POST", "auth/token/create", {"policies": ["envdrift-reader"]})
    token: str = answer["auth"]["client_token"]
    return token
