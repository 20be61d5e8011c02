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

import argparse
import hashlib
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.servers when run as a script

from envdrift import VaultContext  # noqa: E402
from envdrift_hashicorp import HashicorpVault  # noqa: E402

from tests.servers.openbao import OpenBao, openbao_server  # noqa: E402
from tests.servers.proxy import TcpProxy  # noqa: E402

TARGET_SECONDS = 1.0
TARGET_MAPPINGS = 200
JOBS = 16  # envdrift.sync.DEFAULT_JOBS
SUMMARY_TIME = re.compile(r"\((\d+\.\d+) s\)$")


def key_for(index: int) -> str:
    return hashlib.sha256(f"hashicorp-bench-{index}".encode()).hexdigest()


def seed_secrets(server: OpenBao, prefix: str, count: int) -> list[str]:
    """Write ``count`` secrets straight to OpenBao (not through the slow proxy)."""
    names = [f"{prefix}/svc-{i:03d}-dotenvx-key" for i in range(count)]
    for index, name in enumerate(names):
        server.kv_put(f"secret/{name}", value=key_for(index))
    return names


def make_project(root: Path, names: list[str]) -> None:
    lines = ["[vault]", 'provider = "hashicorp"']
    for index, name in enumerate(names):
        (root / "services" / f"svc-{index:03d}").mkdir(parents=True)
        lines += [
            "",
            "[[vault.sync.mappings]]",
            f'secret_name = "{name}"',
            f'folder_path = "services/svc-{index:03d}"',
        ]
    (root / "envdrift.toml").write_text("\n".join(lines) + "\n")


def timed(proxy: TcpProxy, work: Callable[[], Any]) -> tuple[float, int, int, Any]:
    """Run ``work``; return (seconds, requests and connections the proxy saw, result)."""
    requests, connections = proxy.stats.requests, proxy.stats.connections
    started = time.perf_counter()
    result = work()
    return (
        time.perf_counter() - started,
        proxy.stats.requests - requests,
        proxy.stats.connections - connections,
        result,
    )


def check_all(results: dict[str, Any], names: list[str]) -> None:
    for index, name in enumerate(names):
        value = results[name]
        if isinstance(value, Exception) or value.reveal() != key_for(index):
            raise SystemExit(f"wrong result for {name}: {value!r}")


def figures(times: list[float]) -> str:
    return f"median {statistics.median(times):6.3f} s  min {min(times):6.3f}  max {max(times):6.3f}"


def shown(counts: set[int]) -> str:
    return "/".join(str(n) for n in sorted(counts))


def bench_backend(proxy: TcpProxy, names: list[str], runs: int) -> list[str]:
    cold: list[float] = []
    warm: list[float] = []
    calls: dict[str, set[int]] = {"cold": set(), "warm": set()}
    links: dict[str, set[int]] = {"cold": set(), "warm": set()}
    for _ in range(runs):
        vault = HashicorpVault({}, VaultContext())
        try:
            for label, times in (("cold", cold), ("warm", warm)):
                seconds, requests, connections, results = timed(
                    proxy, lambda v=vault: v.fetch_many(names, jobs=JOBS)
                )
                check_all(results, names)
                times.append(seconds)
                calls[label].add(requests)
                links[label].add(connections)
        finally:
            vault.close()
    return [
        f"  vault, fresh backend   {figures(cold)}  requests {shown(calls['cold'])}"
        f"  connections {shown(links['cold'])}",
        f"  vault, warm backend    {figures(warm)}  requests {shown(calls['warm'])}"
        f"  connections {shown(links['warm'])}",
    ]


def run_cli(proxy: TcpProxy, project: Path, env: dict[str, str]) -> tuple[float, int, float, float]:
    """Run ``envdrift sync`` in ``project``: (wall s, requests, engine s, process CPU s)."""
    envdrift = Path(sys.executable).with_name("envdrift")

    def work() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(envdrift), "sync", "--ci"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, requests, _, done = timed(proxy, work)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"envdrift sync failed:\n{done.stdout}{done.stderr}")
    summary = done.stdout.strip().splitlines()[-1]
    match = SUMMARY_TIME.search(summary)
    return seconds, requests, float(match.group(1)) if match else float("nan"), cpu


def bench_cli(
    proxy: TcpProxy, names: list[str], runs: int, scratch: Path, env: dict[str, str]
) -> list[str]:
    template = scratch / f"template-{len(names)}"
    make_project(template, names)
    first: list[tuple[float, int, float, float]] = []
    again: list[tuple[float, int, float, float]] = []
    for attempt in range(runs + 1):  # the first pass only warms caches and bytecode
        project = scratch / f"run-{len(names)}-{attempt}"
        shutil.copytree(template, project)
        created = run_cli(proxy, project, env)
        unchanged = run_cli(proxy, project, env)
        if attempt:
            first.append(created)
            again.append(unchanged)

    def row(label: str, samples: list[tuple[float, int, float, float]]) -> str:
        walls = [s[0] for s in samples]
        engine = statistics.median(s[2] for s in samples)
        cpu = statistics.median(s[3] for s in samples)
        requests = shown({s[1] for s in samples})
        return (
            f"  {label:<22} {figures(walls)}  engine {engine:5.2f} s  CPU {cpu:5.2f} s  "
            f"requests {requests}"
        )

    lines = [row("envdrift sync (create)", first), row("envdrift sync (re-run)", again)]
    if len(names) == TARGET_MAPPINGS:
        median = statistics.median(s[0] for s in first)
        verdict = "ok" if median < TARGET_SECONDS else "OVER TARGET"
        lines.append(
            f"  target: {TARGET_MAPPINGS} mappings in < {TARGET_SECONDS:g} s of wall time: "
            f"{median:.3f} s = {median / TARGET_SECONDS:.2f} of target ({verdict})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mappings", type=int, nargs="+", default=[10, TARGET_MAPPINGS])
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="envdrift-bench-hashicorp-"))
    home = scratch / "home"
    home.mkdir()
    try:
        with openbao_server(scratch / "openbao") as server:
            port = int(server.address.rsplit(":", 1)[1])
            with TcpProxy("127.0.0.1", port, delay=options.delay_ms / 1000) as proxy:
                env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                env.update(
                    HOME=str(home),  # no ~/.vault-token of the person running this
                    VAULT_ADDR=f"http://127.0.0.1:{proxy.port}",
                    VAULT_TOKEN=server.root_token,
                )
                os.environ.clear()
                os.environ.update(env)
                print(
                    f"envdrift sync on HashiCorp Vault (OpenBao dev server, KV v2), "
                    f"{options.delay_ms:g} ms added per request, {options.runs} runs each, "
                    f"{JOBS} calls in flight, {os.cpu_count()} CPUs, "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
                for count in options.mappings:
                    names = seed_secrets(server, f"bench{count}", count)
                    print(f"\n{count} mappings")
                    for line in bench_backend(proxy, names, options.runs):
                        print(line)
                    for line in bench_cli(proxy, names, options.runs, scratch, env):
                        print(line)
                most = max(options.mappings)
                print(
                    f"\none secret at a time (the existing envdrift) needs at least "
                    f"{most} x {options.delay_ms:g} ms = {options.delay_ms / 1000 * most:.1f} s "
                    f"for {most} mappings"
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
