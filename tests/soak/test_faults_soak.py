"""Soak: ``envdrift sync`` of 200 mappings while the vault fails, hangs or is down.

Each backend runs against its local server behind ``tests.servers.proxy``, the
fault-injecting loopback proxy, with the real CLI in a fresh process on a scratch
monorepo (one folder and one secret per mapping):

* **transient faults**: 20 % of requests fail transiently (15 % answered 429/5xx, or the
  service's own throttling error; 5 % reset) and 5 % hang. Every run must end with every
  mapping's key correct. AWS runs twice: with ``BatchGetSecretValue`` (20 secrets a
  request) and with the user guide's IAM policy (one ``GetSecretValue`` per secret).
  Azure's server speaks TLS, so the proxy resets and hangs its connections (about 20 %
  and 5 % of requests), and the server itself answers 429/503 once for a fifth of the
  secrets.
* **vault down**: the proxy swallows every request (a hung vault), or nothing listens
  (refused). Each run must end within its bound with one error per mapping; the bound is
  the deadline plus one request timeout, and the breaker usually ends it much sooner.

Figures (printed: run with ``-s`` to see them): runs, mappings correct, requests the proxy
saw, faults injected by kind, wall time of the whole process. Heavier settings than the
backends' own ``test_faults.py``; nothing is asserted on time, only on correctness (every
key right after transient faults; one error per mapping when the vault is down).

Opt-in (``-m soak``): ``nox -s soak``, or ``.venv/bin/python -m pytest tests/soak -m soak -s``.
``SOAK_MAPPINGS`` (200), ``SOAK_RUNS`` (3), ``SOAK_TIMEOUT`` (1), ``SOAK_RETRIES`` (8) and
``SOAK_DEADLINE`` (30, for the vault-down runs) change its size.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port
from tests.servers.monorepo import ScratchRepo
from tests.servers.proxy import Faults, TcpProxy

pytestmark = pytest.mark.soak

AWS_THROTTLED = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
VAULT_THROTTLED = b'{"errors":["rate limit quota exceeded"]}'
#: 15 % errors + 5 % resets = 20 % transient failures; 5 % of requests hang.
HTTP_ERRORS = 0.15
RESETS = 0.05
HANGS = 0.05


@dataclass
class Backend:
    """One vault, seeded, and how to point a project and a process at it through a proxy."""

    name: str
    upstream: int
    env: dict[str, str]
    configure: Callable[[ScratchRepo, int], None]
    faults: Callable[[int], Faults]
    before_run: Callable[[ScratchRepo, int], None] = lambda repo, seed: None
    repos: dict[int, ScratchRepo] = field(default_factory=dict)

    def seed(self, scratch: Path, count: int, store: Callable[[str, str], None]) -> None:
        """Store the keys of a ``count``-service project, the template of every run."""
        repo = ScratchRepo(scratch / f"{self.name}-template-{count}", f"b{count}", count)
        for name, key in repo.keys.items():
            store(name, key)
        self.repos[count] = repo


@dataclass
class Run:
    code: int
    seconds: float
    requests: int
    errors: int
    resets: int
    hangs: int
    wrong: int
    outcomes: dict[str, int]
    reasons: list[str]


def envdrift(project: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], float]:
    command = [str(Path(sys.executable).with_name("envdrift")), "sync", "--ci", "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    try:
        document = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"envdrift sync printed no JSON:\n{done.stdout}{done.stderr}")
    return done.returncode, document, seconds


def run_once(backend: Backend, proxy: TcpProxy, repo: ScratchRepo, args: list[str]) -> Run:
    before = (proxy.stats.requests, proxy.stats.errors, proxy.stats.resets, proxy.stats.hangs)
    code, document, seconds = envdrift(repo.root, backend.env, *args)
    after = (proxy.stats.requests, proxy.stats.errors, proxy.stats.resets, proxy.stats.hangs)
    delta = [b - a for a, b in zip(before, after, strict=True)]
    outcomes: dict[str, int] = {}
    reasons = []
    for mapping in document["mappings"]:
        outcomes[mapping["outcome"]] = outcomes.get(mapping["outcome"], 0) + 1
        if mapping["reason"]:
            reasons.append(mapping["reason"])
    return Run(code, seconds, *delta, len(repo.wrong()), outcomes, reasons)


def fresh_repo(backend: Backend, scratch: Path, count: int, label: str) -> ScratchRepo:
    """A new checkout of the seeded project (no keys files yet)."""
    template = backend.repos[count]
    root = scratch / f"{backend.name}-{label}-{time.monotonic_ns()}"
    shutil.copytree(template.root, root)
    repo = ScratchRepo(root, template.prefix, count)
    return repo


def transient(backend: Backend, scratch: Path, count: int, runs: int, args: list[str]) -> None:
    results = []
    for seed in range(1, runs + 1):
        repo = fresh_repo(backend, scratch, count, "transient")
        backend.before_run(repo, seed)
        with TcpProxy("127.0.0.1", backend.upstream, faults=backend.faults(seed)) as proxy:
            backend.configure(repo, proxy.port)
            run = run_once(backend, proxy, repo, args)
        results.append(run)
        if run.code != 0 or run.wrong:
            print(f"    run {seed}: exit {run.code}, {run.wrong} mappings wrong")
            for reason in run.reasons[:5]:
                print(f"      {reason}")
    correct = sum(count - r.wrong for r in results)
    injected = [r.errors + r.resets + r.hangs for r in results]
    print(
        f"  transient faults  {len(results)} runs: {correct}/{count * len(results)} mappings "
        f"correct, exit {'/'.join(sorted({str(r.code) for r in results}))}; "
        f"requests {_spread([r.requests for r in results])}, injected {_spread(injected)} "
        f"(errors {sum(r.errors for r in results)}, resets {sum(r.resets for r in results)}, "
        f"hangs {sum(r.hangs for r in results)}); wall {_spread([r.seconds for r in results])} s"
    )
    assert [(r.code, r.wrong) for r in results] == [(0, 0)] * len(results)


def start_up(env: dict[str, str]) -> float:
    """Seconds a process needs to start envdrift and load its plugins (no vault call)."""
    command = [str(Path(sys.executable).with_name("envdrift")), "plugins"]
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def down(backend: Backend, scratch: Path, count: int, args: list[str], deadline: float) -> None:
    timeout = float(args[args.index("--timeout") + 1])
    # Vault calls end within the deadline plus one request timeout; the process also
    # starts Python and loads the backend's SDK.
    overhead = max(start_up(backend.env) for _ in range(2))
    bound = deadline + timeout + overhead
    for label in ("hung", "refused"):
        repo = fresh_repo(backend, scratch, count, label)
        if label == "hung":
            with TcpProxy("127.0.0.1", backend.upstream, faults=Faults(hang_rate=1.0)) as proxy:
                backend.configure(repo, proxy.port)
                run = run_once(backend, proxy, repo, [*args, "--deadline", f"{deadline:g}"])
        else:
            backend.configure(repo, free_port())
            code, document, seconds = envdrift(
                repo.root, backend.env, *args, "--deadline", f"{deadline:g}"
            )
            reasons = [m["reason"] for m in document["mappings"] if m["reason"]]
            outcomes = {"error": sum(1 for m in document["mappings"] if m["outcome"] == "error")}
            run = Run(code, seconds, 0, 0, 0, 0, len(repo.wrong()), outcomes, reasons)
        errors = run.outcomes.get("error", 0)
        untried = sum(1 for r in run.reasons if r.startswith("not tried:"))
        verdict = "within" if run.seconds <= bound else "OVER"
        print(
            f"  vault down ({label:<7}) exit {run.code}, {errors}/{count} mappings with one "
            f"error each ({untried} failed fast by the breaker), wall {run.seconds:5.1f} s "
            f"({verdict} the bound of {bound:.1f} s: deadline {deadline:g} + timeout "
            f"{timeout:g} + process start {overhead:.1f}), requests {run.requests}"
        )
        print(f"      e.g. {run.reasons[-1]}")
        assert (run.code, errors) == (1, count), f"{backend.name}: a down vault ({label})"
        assert repo.missing() == list(repo.keys)


def _spread(values: list[float] | list[int]) -> str:
    if not values:
        return "-"
    if all(isinstance(v, int) for v in values):
        return f"{min(values)}-{max(values)}" if min(values) != max(values) else str(values[0])
    return f"{statistics.median(values):.1f} (max {max(values):.1f})"


# -- backends ----------------------------------------------------------------------------


def _http_faults(body_status: int, body: bytes) -> Callable[[int], Faults]:
    def make(seed: int) -> Faults:
        return Faults(
            error_rate=HTTP_ERRORS,
            reset_rate=RESETS,
            hang_rate=HANGS,
            error_statuses=(429, 500, 503, body_status),
            error_bodies={body_status: body},
            seed=seed,
        )

    return make


@contextlib.contextmanager
def aws(scratch: Path, count: int, batch: bool) -> Iterator[Backend]:
    import boto3

    from tests.servers.moto import create_iam_user, enforce_auth, moto_server

    with moto_server(log_dir=scratch) as endpoint:
        client = boto3.Session().client(
            "secretsmanager",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        env = _base_env(scratch, "AWS_")
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        env["AWS_EC2_METADATA_DISABLED"] = "true"

        def configure(repo: ScratchRepo, port: int) -> None:
            repo.write_config("aws", 'region = "us-east-1"')
            env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"

        backend = Backend(
            "aws" if batch else "aws-singles",
            int(endpoint.rsplit(":", 1)[1]),
            env,
            configure,
            _http_faults(400, AWS_THROTTLED),
        )

        def store(name: str, key: str) -> None:
            with contextlib.suppress(client.exceptions.ResourceExistsException):
                client.create_secret(Name=name, SecretString=key)

        backend.seed(scratch, count, store)
        if not batch:  # the user guide's policy: no BatchGetSecretValue
            actions = ["secretsmanager:GetSecretValue", "secretsmanager:ListSecrets"]
            key_id, secret = create_iam_user(endpoint, "guide", actions)
            env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
            enforce_auth(endpoint, enabled=True)
        try:
            yield backend
        finally:
            enforce_auth(endpoint, enabled=False)


@contextlib.contextmanager
def hashicorp(scratch: Path, count: int) -> Iterator[Backend]:
    from tests.servers.openbao import openbao_server

    with openbao_server(scratch / "openbao") as server:
        env = _base_env(scratch, "VAULT_")
        env["VAULT_TOKEN"] = server.root_token

        def configure(repo: ScratchRepo, port: int) -> None:
            repo.write_config("hashicorp", f'url = "http://127.0.0.1:{port}"')

        backend = Backend(
            "hashicorp",
            int(server.address.rsplit(":", 1)[1]),
            env,
            configure,
            _http_faults(429, VAULT_THROTTLED),
        )
        backend.seed(scratch, count, lambda name, key: server.kv_put(f"secret/{name}", value=key))
        yield backend


@contextlib.contextmanager
def azure(scratch: Path, count: int) -> Iterator[Backend]:
    import random

    from tests.servers.azure_keyvault import keyvault_server

    client_id, client_secret = "bench-app", "bench-secret"
    with keyvault_server(scratch, client_secrets={client_id: client_secret}) as keyvault:
        env = _base_env(scratch, "AZURE_")
        env.update(keyvault.credential_env(client_id))
        env["ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE"] = "0"

        def configure(repo: ScratchRepo, port: int) -> None:
            repo.write_config("azure", f'vault_url = "https://127.0.0.1:{port}/"')

        def server_faults(repo: ScratchRepo, seed: int) -> None:
            # TLS hides HTTP from the proxy: the server answers 429/503 itself, once, for
            # a fifth of the secrets.
            rng = random.Random(seed)
            for name in repo.keys:
                if rng.random() < 0.2:
                    keyvault.add_fault(name, rng.choice([429, 503]), count=1, retry_after="0.1")

        backend = Backend(
            "azure",
            keyvault.port,
            env,
            configure,
            # Through TLS the proxy draws per burst (handshake messages too): about three
            # draws per request, so these rates give roughly 20 % and 5 % per request.
            lambda seed: Faults(reset_rate=0.07, hang_rate=0.017, seed=seed),
            before_run=server_faults,
        )
        _seed_azure(keyvault, client_id, client_secret, backend, scratch, count)
        yield backend


def _seed_azure(
    keyvault: Any, client_id: str, secret: str, backend: Backend, scratch: Path, count: int
) -> None:
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    credential = ClientSecretCredential(
        keyvault.tenant_id,
        client_id,
        secret,
        authority=keyvault.authority_host,
        disable_instance_discovery=True,
        connection_verify=str(keyvault.ca_path),
    )
    url = keyvault.vault_url(None)
    with SecretClient(
        url, credential, verify_challenge_resource=False, connection_verify=str(keyvault.ca_path)
    ) as client:

        def store(name: str, key: str) -> None:
            client.set_secret(name, key)

        backend.seed(scratch, count, store)


def _base_env(scratch: Path, drop: str) -> dict[str, str]:
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith((drop, "ENVDRIFT_"))}
    env["HOME"] = str(home)
    return env


BACKENDS = ["aws", "aws-singles", "hashicorp", "azure"]


@pytest.mark.parametrize("name", BACKENDS)
def test_sync_survives_faults_and_fails_cleanly_when_down(name: str, tmp_path: Path) -> None:
    mappings = int(os.environ.get("SOAK_MAPPINGS", "200"))
    runs = int(os.environ.get("SOAK_RUNS", "3"))
    timeout = float(os.environ.get("SOAK_TIMEOUT", "1"))
    retries = int(os.environ.get("SOAK_RETRIES", "8"))
    deadline = float(os.environ.get("SOAK_DEADLINE", "30"))
    args = ["--timeout", f"{timeout:g}", "--retries", str(retries)]
    print(
        f"\n{name}: envdrift sync of {mappings} mappings under faults: {HTTP_ERRORS:.0%} HTTP "
        f"errors + {RESETS:.0%} resets (transient) and {HANGS:.0%} hangs per request; "
        f"{' '.join(args)}; {runs} runs; load average {os.getloadavg()[0]:.2f}"
    )
    contexts = {
        "aws": lambda: aws(tmp_path, mappings, batch=True),
        "aws-singles": lambda: aws(tmp_path, mappings, batch=False),
        "hashicorp": lambda: hashicorp(tmp_path, mappings),
        "azure": lambda: azure(tmp_path, mappings),
    }
    with contexts[name]() as backend:
        transient(backend, tmp_path, mappings, runs, args)
        down(backend, tmp_path, mappings, args, deadline)
