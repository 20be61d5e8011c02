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

import functools
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and this file (azure.py)
# would shadow the `azure` SDK package; the project root is needed for tests.servers.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

from envdrift import VaultContext  # noqa: E402
from envdrift.sync import DEFAULT_JOBS  # noqa: E402
from envdrift_azure import AzureVault  # noqa: E402

from benchmarks import _vaultbench as vb  # noqa: E402
from tests.servers.azure_keyvault import KeyVaultEndpoint, keyvault_server  # noqa: E402
from tests.servers.proxy import TcpProxy  # noqa: E402

TARGET_SECONDS = 1.0
CLIENT, CLIENT_SECRET = "bench-app", "bench-secret"
BACKEND = "azure"


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
            c.set_secret(name, vb.key_for(BACKEND, index))
    return names


def bench_backend(proxy: TcpProxy, vault_url: str, names: list[str], runs: int) -> list[str]:
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    calls: dict[str, list[int]] = {"cold": [], "warm": []}
    for _ in range(runs):
        vault = AzureVault({"vault_url": vault_url}, VaultContext())
        fetch_all = functools.partial(vault.fetch_many, names, jobs=DEFAULT_JOBS)
        try:
            for label in ("cold", "warm"):
                run = vb.timed(proxy, fetch_all)
                vb.check_all(run.result, names, BACKEND)
                times[label].append(run.seconds)
                calls[label].append(run.requests)
        finally:
            vault.close()
    return [
        vb.vault_row(f"vault, {label} backend", times[key], calls[key])
        for key, label in (("cold", "fresh"), ("warm", "warm"))
    ]


def main() -> None:
    options = vb.parse_options(__doc__)
    with (
        vb.scratch_folder(BACKEND) as scratch,
        keyvault_server(scratch, client_secrets={CLIENT: CLIENT_SECRET}) as keyvault,
    ):
        env = vb.bench_env(
            scratch / "home", ("AZURE_", "ENVDRIFT_"), **keyvault.credential_env(CLIENT)
        )
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
            table = ['provider = "azure"', "", "[vault.azure]", f'vault_url = "{vault_url}"']
            vb.report_sizes(
                options,
                names_by_count.__getitem__,
                lambda names: bench_backend(proxy, vault_url, names, options.runs),
                lambda names: vb.bench_sync(
                    proxy,
                    names,
                    options.runs,
                    scratch,
                    env,
                    lambda root: vb.make_project(root, names, table),
                    server_pid=keyvault.pid,
                    quiet=True,
                    target=TARGET_SECONDS,
                ),
            )


if __name__ == "__main__":
    main()
