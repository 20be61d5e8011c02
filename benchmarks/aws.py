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

from envdrift import Vault, VaultContext  # noqa: E402
from envdrift_aws import AwsVault  # noqa: E402

from tests.servers.moto import moto_server  # noqa: E402
from tests.servers.proxy import TcpProxy  # noqa: E402

TARGET_SECONDS = 0.6
TARGET_MAPPINGS = 200
REGION = "us-east-1"
SUMMARY_TIME = re.compile(r"\((\d+\.\d+) s\)$")


def key_for(index: int) -> str:
    return hashlib.sha256(f"aws-bench-{index}".encode()).hexdigest()


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
        client.create_secret(Name=name, SecretString=key_for(index))
    return names


def make_project(root: Path, names: list[str]) -> None:
    lines = ["[vault]", 'provider = "aws"', "", "[vault.aws]", f'region = "{REGION}"']
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
    """Run ``work``; return (seconds, HTTP requests the proxy saw, result)."""
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


def bench_backend(proxy: TcpProxy, names: list[str], runs: int) -> list[str]:
    cold: list[float] = []
    warm: list[float] = []
    single: list[float] = []
    calls: dict[str, set[int]] = {"cold": set(), "warm": set(), "single": set()}
    for _ in range(runs):
        vault = AwsVault({}, VaultContext())
        try:
            seconds, requests, results = timed(proxy, lambda v=vault: v.fetch_many(names, jobs=16))
            check_all(results, names)
            cold.append(seconds)
            calls["cold"].add(requests)
            seconds, requests, results = timed(proxy, lambda v=vault: v.fetch_many(names, jobs=16))
            check_all(results, names)
            warm.append(seconds)
            calls["warm"].add(requests)
            seconds, requests, results = timed(
                proxy, lambda v=vault: Vault.fetch_many(v, names, jobs=16)
            )
            check_all(results, names)
            single.append(seconds)
            calls["single"].add(requests)
        finally:
            vault.close()

    def shown(label: str) -> str:
        return "/".join(str(n) for n in sorted(calls[label]))

    lines = [
        f"  vault, fresh backend   {figures(cold)}  requests {shown('cold')}",
        f"  vault, warm backend    {figures(warm)}  requests {shown('warm')}",
        f"  one call per secret    {figures(single)}  requests {shown('single')}"
        f"  (batching: {statistics.median(single) / statistics.median(warm):4.1f}x faster)",
    ]
    if len(names) == TARGET_MAPPINGS:
        median = statistics.median(cold)
        verdict = "ok" if median < TARGET_SECONDS else "OVER TARGET"
        lines.append(
            f"  target: {TARGET_MAPPINGS} secrets in < {TARGET_SECONDS} s of vault time: "
            f"fresh {median:.3f} s = {median / TARGET_SECONDS:.2f} of target ({verdict})"
        )
    return lines


def run_cli(proxy: TcpProxy, project: Path, env: dict[str, str]) -> tuple[float, int, float, float]:
    """Run ``envdrift sync`` in ``project``: (wall s, requests, engine s, CPU s).

    CPU is user + system time of the process: on a busy machine the wall time includes
    waiting for a core, the CPU time does not.
    """
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
    seconds, requests, done = timed(proxy, work)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
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
        requests = "/".join(str(n) for n in sorted({s[1] for s in samples}))
        return (
            f"  {label:<22} {figures(walls)}  engine {engine:5.2f} s  CPU {cpu:5.2f} s"
            f"  requests {requests}"
        )

    return [row("envdrift sync (create)", first), row("envdrift sync (re-run)", again)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mappings", type=int, nargs="+", default=[10, TARGET_MAPPINGS])
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="envdrift-bench-aws-"))
    home = scratch / "home"
    home.mkdir()
    try:
        with moto_server(log_dir=scratch) as endpoint:
            port = int(endpoint.rsplit(":", 1)[1])
            with TcpProxy("127.0.0.1", port, delay=options.delay_ms / 1000) as proxy:
                env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                env.update(
                    HOME=str(home),  # no ~/.aws of the person running this
                    AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}",
                    AWS_ACCESS_KEY_ID="testing",
                    AWS_SECRET_ACCESS_KEY="testing",
                    AWS_EC2_METADATA_DISABLED="true",
                )
                os.environ.clear()
                os.environ.update(env)
                print(
                    f"envdrift sync on AWS Secrets Manager (moto_server), "
                    f"{options.delay_ms:g} ms added per request, {options.runs} runs each, "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
                for count in options.mappings:
                    names = seed_secrets(endpoint, f"bench{count}", count)
                    print(f"\n{count} mappings")
                    for line in bench_backend(proxy, names, options.runs):
                        print(line)
                    for line in bench_cli(proxy, names, options.runs, scratch, env):
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
