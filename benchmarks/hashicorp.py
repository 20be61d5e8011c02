"""Benchmark: ``envdrift sync`` against HashiCorp Vault (OpenBao) with 25 ms added to every request.

A real OpenBao dev server holds the secrets (KV v2 at ``secret/``); a loopback TCP proxy
in front of it delays every HTTP request by ``--delay-ms`` (25 ms by default), as a
distant Vault cluster would. The ``hashicorp`` backend reaches the proxy through
``VAULT_ADDR``, like any Vault CLI user. Vault has no batch read: concurrency (one pooled
HTTP session shared by ``Vault.fetch_many``'s threads) must carry it.

For each size (10 and 200 mappings by default) it measures:

* **vault time**: ``HashicorpVault.fetch_many`` of every secret with 16 calls in flight
  (sync's default), on a fresh backend (session set-up and the mount's KV-version lookup
  included) and on a warm one; with the HTTP requests and TCP connections the proxy saw.
* **envdrift sync**: the real CLI in a fresh process on a scratch monorepo (first run:
  every key created; re-run: every key unchanged): wall time of the whole process
  (interpreter start and imports included), the engine's own time from its summary
  line, and the requests made. Target: 200 mappings in under 1 s of wall time.

Usage:
    .venv/bin/python benchmarks/hashicorp.py [--mappings 10 200] [--delay-ms 25] [--runs 5]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.servers when run as a script

from envdrift import VaultContext  # noqa: E402
from envdrift_hashicorp import HashicorpVault  # noqa: E402

from benchmarks import _vaultbench as vb  # noqa: E402
from tests.servers.openbao import OpenBao, openbao_server  # noqa: E402
from tests.servers.proxy import TcpProxy  # noqa: E402

TARGET_SECONDS = 1.0
JOBS = 16  # envdrift.sync.DEFAULT_JOBS
BACKEND = "hashicorp"


def seed_secrets(server: OpenBao, prefix: str, count: int) -> list[str]:
    """Write ``count`` secrets straight to OpenBao (not through the slow proxy)."""
    names = [f"{prefix}/svc-{i:03d}-dotenvx-key" for i in range(count)]
    for index, name in enumerate(names):
        server.kv_put(f"secret/{name}", value=vb.key_for(BACKEND, index))
    return names


def bench_backend(proxy: TcpProxy, names: list[str], runs: int) -> list[str]:
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    calls: dict[str, list[int]] = {"cold": [], "warm": []}
    links: dict[str, list[int]] = {"cold": [], "warm": []}
    for _ in range(runs):
        vault = HashicorpVault({}, VaultContext())
        try:
            for label in ("cold", "warm"):
                run = vb.timed(proxy, lambda v=vault: v.fetch_many(names, jobs=JOBS))
                vb.check_all(run.result, names, BACKEND)
                times[label].append(run.seconds)
                calls[label].append(run.requests)
                links[label].append(run.connections)
        finally:
            vault.close()
    return [
        vb.vault_row(f"vault, {label} backend", times[key], calls[key], links[key])
        for key, label in (("cold", "fresh"), ("warm", "warm"))
    ]


def main() -> None:
    options = vb.parse_options(__doc__)
    with vb.scratch_folder(BACKEND) as scratch, openbao_server(scratch / "openbao") as server:
        port = int(server.address.rsplit(":", 1)[1])
        with TcpProxy("127.0.0.1", port, delay=options.delay_ms / 1000) as proxy:
            env = vb.bench_env(
                scratch / "home",
                ("VAULT_",),
                VAULT_ADDR=f"http://127.0.0.1:{proxy.port}",
                VAULT_TOKEN=server.root_token,
            )
            print(
                f"envdrift sync on HashiCorp Vault (OpenBao dev server, KV v2), "
                f"{options.delay_ms:g} ms added per request, {options.runs} runs each, "
                f"{JOBS} calls in flight, {os.cpu_count()} CPUs, "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            vb.report_sizes(
                options,
                lambda count: seed_secrets(server, f"bench{count}", count),
                lambda names: bench_backend(proxy, names, options.runs),
                lambda names: vb.bench_sync(
                    proxy,
                    names,
                    options.runs,
                    scratch,
                    env,
                    lambda root: vb.make_project(root, names, ['provider = "hashicorp"']),
                    target=TARGET_SECONDS,
                ),
            )


if __name__ == "__main__":
    main()
