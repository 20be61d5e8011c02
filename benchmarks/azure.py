"""Benchmark: ``envdrift sync`` against Azure Key Vault with 25 ms added to every request.

Our HTTPS Key Vault test server holds the secrets; a loopback TCP proxy in front of it
delays every request by ``--delay-ms`` (25 ms by default), as a far-away Azure region
would. Everything goes through the proxy: Key Vault's 401 challenge, the Entra token
request (``AZURE_AUTHORITY_HOST``), each TLS handshake's round trips and every read. The
backend runs unmodified (``DefaultAzureCredential`` from ``AZURE_CLIENT_*``, CA from
``REQUESTS_CA_BUNDLE``); the vault is addressed by IP, so
``ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE=0`` is set, as for any emulator.

For each size (10 and 200 mappings by default) it measures:

* **vault time**: ``AzureVault.fetch_many`` of every secret with envdrift's default
  concurrency, on a fresh backend (challenge, token, connections included) and on a warm
  one, with the requests the proxy saw;
* **envdrift sync**: the real CLI in a fresh process on a scratch monorepo (first run:
  every key created; re-run: every key unchanged): wall time of the whole process, the
  engine's own time from its summary line, and the requests made.

Target: ``envdrift sync`` of 200 mappings in under 1 s of wall time.

Usage:
    .venv/bin/python benchmarks/azure.py [--mappings 10 200] [--delay-ms 25] [--runs 5]
"""

from __future__ import annotations

import argparse
import functools
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
# Run as a script, this file's folder comes first on sys.path, and this file (azure.py)
# would shadow the `azure` SDK package; the project root is needed for tests.servers.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

from envdrift import VaultContext  # noqa: E402
from envdrift.sync import DEFAULT_JOBS  # noqa: E402
from envdrift_azure import AzureVault  # noqa: E402

from tests.servers.azure_keyvault import KeyVaultEndpoint, keyvault_server  # noqa: E402
from tests.servers.proxy import TcpProxy  # noqa: E402

TARGET_SECONDS = 1.0
TARGET_MAPPINGS = 200
CLIENT, CLIENT_SECRET = "bench-app", "bench-secret"
SUMMARY_TIME = re.compile(r"\((\d+\.\d+) s\)$")


def key_for(index: int) -> str:
    return hashlib.sha256(f"azure-bench-{index}".encode()).hexdigest()


def seed_secrets(keyvault: KeyVaultEndpoint, prefix: str, count: int) -> list[str]:
    """Store ``count`` secrets straight on the server (not through the slow proxy)."""
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    credential = ClientSecretCredential(
        keyvault.tenant_id,
        CLIENT,
        CLIENT_SECRET,
        authority=keyvault.authority_host,
        disable_instance_discovery=True,
    )
    names = [f"{prefix}-svc-{i:03d}-dotenvx-key" for i in range(count)]
    with SecretClient(keyvault.vault_url(None), credential, verify_challenge_resource=False) as c:
        for index, name in enumerate(names):
            c.set_secret(name, key_for(index))
    return names


def make_project(root: Path, vault_url: str, names: list[str]) -> None:
    lines = ["[vault]", 'provider = "azure"', "", "[vault.azure]", f'vault_url = "{vault_url}"']
    for index, name in enumerate(names):
        (root / "services" / f"svc-{index:03d}").mkdir(parents=True)
        lines += [
            "",
            "[[vault.sync.mappings]]",
            f'secret_name = "{name}"',
            f'folder_path = "services/svc-{index:03d}"',
        ]
    (root / "envdrift.toml").write_text("\n".join(lines) + "\n")


def timed(proxy: TcpProxy, work: Callable[[], Any]) -> tuple[float, int, Any]:
    """Run ``work``; return (seconds, requests the proxy saw, result)."""
    before = proxy.stats.requests
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, proxy.stats.requests - before, result


def check_all(results: dict[str, Any], names: list[str]) -> None:
    for index, name in enumerate(names):
        value = results[name]
        if isinstance(value, Exception) or value.reveal() != key_for(index):
            raise SystemExit(f"wrong result for {name}: {value!r}")


def figures(times: list[float]) -> str:
    return f"median {statistics.median(times):6.3f} s  min {min(times):6.3f}  max {max(times):6.3f}"


def requests_seen(samples: list[int]) -> str:
    return "/".join(str(n) for n in sorted(set(samples)))


def bench_backend(proxy: TcpProxy, vault_url: str, names: list[str], runs: int) -> list[str]:
    cold: list[tuple[float, int]] = []
    warm: list[tuple[float, int]] = []
    for _ in range(runs):
        vault = AzureVault({"vault_url": vault_url}, VaultContext())
        fetch_all = functools.partial(vault.fetch_many, names, jobs=DEFAULT_JOBS)
        try:
            seconds, requests, results = timed(proxy, fetch_all)
            check_all(results, names)
            cold.append((seconds, requests))
            seconds, requests, results = timed(proxy, fetch_all)
            check_all(results, names)
            warm.append((seconds, requests))
        finally:
            vault.close()
    return [
        f"  vault, fresh backend   {figures([s for s, _ in cold])}"
        f"  requests {requests_seen([n for _, n in cold])}",
        f"  vault, warm backend    {figures([s for s, _ in warm])}"
        f"  requests {requests_seen([n for _, n in warm])}",
    ]


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the test server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Sample = tuple[float, int, float, float, float]


def run_cli(proxy: TcpProxy, server_pid: int, project: Path, env: dict[str, str]) -> Sample:
    """Run ``envdrift sync`` in ``project``.

    Returns (wall s, requests, engine s, envdrift CPU s, test server CPU s). The CPU
    times are printed next to the wall time because on a busy machine the wall time
    includes waiting for a core, and because our Python test server shares the machine's
    cores with envdrift here (a real Key Vault does not).
    """
    envdrift = Path(sys.executable).with_name("envdrift")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server_cpu(server_pid)

    def work() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(envdrift), "sync", "--ci"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    seconds, requests, done = timed(proxy, work)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    served = server_cpu(server_pid) - server_before
    if done.returncode != 0 or done.stderr.strip():
        raise SystemExit(f"envdrift sync failed or warned:\n{done.stdout}{done.stderr}")
    summary = done.stdout.strip().splitlines()[-1]
    match = SUMMARY_TIME.search(summary)
    engine = float(match.group(1)) if match else float("nan")
    return seconds, requests, engine, cpu, served


def bench_cli(
    proxy: TcpProxy,
    server_pid: int,
    vault_url: str,
    names: list[str],
    runs: int,
    scratch: Path,
    env: dict[str, str],
) -> list[str]:
    template = scratch / f"template-{len(names)}"
    make_project(template, vault_url, names)
    first: list[Sample] = []
    again: list[Sample] = []
    for attempt in range(runs + 1):  # the first pass only warms caches and bytecode
        project = scratch / f"run-{len(names)}-{attempt}"
        shutil.copytree(template, project)
        created = run_cli(proxy, server_pid, project, env)
        unchanged = run_cli(proxy, server_pid, project, env)
        if attempt:
            first.append(created)
            again.append(unchanged)

    def row(label: str, samples: list[Sample]) -> str:
        walls = [s[0] for s in samples]
        engine = statistics.median(s[2] for s in samples)
        cpu = statistics.median(s[3] for s in samples)
        served = statistics.median(s[4] for s in samples)
        return (
            f"  {label:<22} {figures(walls)}  engine {engine:5.2f} s  CPU envdrift {cpu:4.2f} s"
            f" + server {served:4.2f} s  requests {requests_seen([s[1] for s in samples])}"
        )

    lines = [row("envdrift sync (create)", first), row("envdrift sync (re-run)", again)]
    if len(names) == TARGET_MAPPINGS:
        median = statistics.median(s[0] for s in first)
        verdict = "ok" if median < TARGET_SECONDS else "OVER TARGET"
        lines.append(
            f"  target: sync of {TARGET_MAPPINGS} mappings in < {TARGET_SECONDS:g} s wall: "
            f"{median:.3f} s = {median / TARGET_SECONDS:.2f} of target ({verdict})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mappings", type=int, nargs="+", default=[10, TARGET_MAPPINGS])
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="envdrift-bench-azure-"))
    home = scratch / "home"
    home.mkdir()
    try:
        with keyvault_server(scratch, client_secrets={CLIENT: CLIENT_SECRET}) as keyvault:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ENVDRIFT_"))}
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env.update(keyvault.credential_env(CLIENT), HOME=str(home))
            os.environ.clear()
            os.environ.update(env)
            names_by_count = {n: seed_secrets(keyvault, f"b{n}", n) for n in options.mappings}
            with TcpProxy("127.0.0.1", keyvault.port, delay=options.delay_ms / 1000) as proxy:
                vault_url = f"https://127.0.0.1:{proxy.port}/"
                env.update(
                    AZURE_AUTHORITY_HOST=f"https://localhost:{proxy.port}",
                    ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE="0",
                )
                os.environ.update(env)
                print(
                    f"envdrift sync on Azure Key Vault (our HTTPS test server), "
                    f"{options.delay_ms:g} ms added per request (token requests and TLS "
                    f"round trips included), --jobs {DEFAULT_JOBS}, {options.runs} runs each, "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
                # One unmeasured round: SDK imports, bytecode, the server's first TLS contexts.
                bench_backend(proxy, vault_url, names_by_count[min(options.mappings)], 1)
                for count in options.mappings:
                    names = names_by_count[count]
                    print(f"\n{count} mappings")
                    for line in bench_backend(proxy, vault_url, names, options.runs):
                        print(line)
                    for line in bench_cli(
                        proxy, keyvault.pid, vault_url, names, options.runs, scratch, env
                    ):
                        print(line)
            floor = options.delay_ms / 1000 * max(options.mappings)
            print(
                f"\none secret at a time (the existing envdrift) needs at least "
                f"{max(options.mappings)} x {options.delay_ms:g} ms = {floor:.1f} s "
                f"for {max(options.mappings)} mappings"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
