"""Benchmark: ``envdrift sync`` against AWS Secrets Manager with 25 ms added to every request.

A real moto_server holds the secrets; a loopback TCP proxy in front of it delays every
HTTP request by ``--delay-ms`` (25 ms by default), as a far-away AWS region would. The
``aws`` backend reaches the proxy through ``AWS_ENDPOINT_URL``, like any boto3 user.

For each size (10 and 200 mappings by default) it measures:

* **vault time**: ``AwsVault.fetch_many`` of every secret: on a fresh backend (client
  set-up included) and on a warm one (the requests alone), with the HTTP requests the
  proxy saw. Target: 200 secrets in under 0.6 s.
* **one call per secret**: the same secrets through the generic ``Vault.fetch_many``
  (``GetSecretValue`` per secret, 16 in flight): what the identity gets when it may not
  call ``BatchGetSecretValue``. The existing envdrift's one-at-a-time loop would need
  at least mappings x delay (5 s for 200).
* **envdrift sync**: the real CLI in a fresh process on a scratch monorepo (first run:
  every key created; re-run: every key unchanged): wall time of the whole process, the
  engine's own time from its summary line, and the requests made.

Usage:
    .venv/bin/python benchmarks/aws.py [--mappings 10 200] [--delay-ms 25] [--runs 5]
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.servers when run as a script

from envdrift import Vault, VaultContext  # noqa: E402
from envdrift_aws import AwsVault  # noqa: E402

from benchmarks import _vaultbench as vb  # noqa: E402
from tests.servers.moto import moto_server  # noqa: E402
from tests.servers.proxy import TcpProxy  # noqa: E402

TARGET_SECONDS = 0.6
REGION = "us-east-1"
BACKEND = "aws"


def seed_secrets(endpoint: str, prefix: str, count: int) -> list[str]:
    """Create ``count`` secrets straight on moto (not through the slow proxy)."""
    import boto3

    client = boto3.Session().client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    names = [f"{prefix}/svc-{i:03d}-dotenvx-key" for i in range(count)]
    for index, name in enumerate(names):
        client.create_secret(Name=name, SecretString=vb.key_for(BACKEND, index))
    return names


def bench_backend(proxy: TcpProxy, names: list[str], runs: int) -> list[str]:
    times: dict[str, list[float]] = {"cold": [], "warm": [], "single": []}
    calls: dict[str, list[int]] = {"cold": [], "warm": [], "single": []}
    for _ in range(runs):
        vault = AwsVault({}, VaultContext())
        try:
            for label, work in (
                ("cold", lambda v=vault: v.fetch_many(names, jobs=16)),
                ("warm", lambda v=vault: v.fetch_many(names, jobs=16)),
                ("single", lambda v=vault: Vault.fetch_many(v, names, jobs=16)),
            ):
                run = vb.timed(proxy, work)
                vb.check_all(run.result, names, BACKEND)
                times[label].append(run.seconds)
                calls[label].append(run.requests)
        finally:
            vault.close()
    batching = statistics.median(times["single"]) / statistics.median(times["warm"])
    lines = [
        vb.vault_row("vault, fresh backend", times["cold"], calls["cold"]),
        vb.vault_row("vault, warm backend", times["warm"], calls["warm"]),
        vb.vault_row("one call per secret", times["single"], calls["single"])
        + f"  (batching: {batching:4.1f}x faster)",
    ]
    if len(names) == vb.TARGET_MAPPINGS:
        lines.append(
            vb.verdict(
                f"vault time of {vb.TARGET_MAPPINGS} secrets (fresh backend)",
                statistics.median(times["cold"]),
                TARGET_SECONDS,
            )
        )
    return lines


def main() -> None:
    options = vb.parse_options(__doc__)
    with vb.scratch_folder(BACKEND) as scratch, moto_server(log_dir=scratch) as endpoint:
        port = int(endpoint.rsplit(":", 1)[1])
        with TcpProxy("127.0.0.1", port, delay=options.delay_ms / 1000) as proxy:
            env = vb.bench_env(
                scratch / "home",
                ("AWS_",),
                AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}",
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                AWS_EC2_METADATA_DISABLED="true",
            )
            print(
                f"envdrift sync on AWS Secrets Manager (moto_server), "
                f"{options.delay_ms:g} ms added per request, {options.runs} runs each, "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            table = ['provider = "aws"', "", "[vault.aws]", f'region = "{REGION}"']
            vb.report_sizes(
                options,
                lambda count: seed_secrets(endpoint, f"bench{count}", count),
                lambda names: bench_backend(proxy, names, options.runs),
                lambda names: vb.bench_sync(
                    proxy,
                    names,
                    options.runs,
                    scratch,
                    env,
                    lambda root: vb.make_project(root, names, table),
                ),
            )


if __name__ == "__main__":
    main()
