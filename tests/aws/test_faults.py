"""``envdrift sync`` against moto through the fault-injecting proxy.

Every request to Secrets Manager goes through ``tests.servers.proxy``, which answers some
with HTTP 429/500/503 or AWS's own ``ThrottlingException`` (HTTP 400), resets some
connections and swallows others. boto3 is untouched: only ``AWS_ENDPOINT_URL`` points at
the proxy. The larger run (200 mappings) is ``tests/soak/test_faults_soak.py`` (``nox -s soak``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.aws.conftest import use_keys
from tests.helpers import sync_errors
from tests.servers import free_port
from tests.servers.monorepo import ScratchRepo, interrupt_hung_sync
from tests.servers.proxy import Faults, TcpProxy

MAPPINGS = 20
THROTTLED = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
#: 20 % answered with an error (a quarter of them AWS throttling), 5 % reset, 5 % hung.
MIX = {
    "error_rate": 0.2,
    "reset_rate": 0.05,
    "hang_rate": 0.05,
    "error_statuses": (400, 429, 500, 503),
    "error_bodies": {400: THROTTLED},
}
#: Timeouts short enough that a hung request costs the test two seconds.
FAST = ("--timeout", "2", "--retries", "8")


@pytest.fixture
def repo(tmp_path: Path, sm: Any, monkeypatch: pytest.MonkeyPatch) -> ScratchRepo:
    root = tmp_path / "repo"
    root.mkdir()
    repo = ScratchRepo(root, "faults", MAPPINGS)
    for name, key in repo.keys.items():
        sm.create_secret(Name=name, SecretString=key)
    repo.write_config("aws", 'region = "us-east-1"')
    monkeypatch.chdir(root)
    return repo


@pytest.fixture
def guide_policy(
    repo: ScratchRepo,
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sign in as an IAM user with the user guide's policy, enforced (after ``repo`` is seeded)."""
    use_keys(monkeypatch, iam_user("guide", "GetSecretValue", "ListSecrets"))
    enforce()


@pytest.fixture
def through_proxy(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[Faults], Any]:
    """Put a proxy with ``faults`` between boto3 and moto for the rest of the test."""

    @contextmanager
    def start(faults: Faults) -> Iterator[TcpProxy]:
        port = int(moto_endpoint.rsplit(":", 1)[1])
        with TcpProxy("127.0.0.1", port, faults=faults) as proxy:
            monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{proxy.port}")
            try:
                yield proxy
            finally:
                monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)

    return start


def test_batch_reads_survive_throttling_errors_and_resets(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    # Seed 4: the one BatchGetSecretValue is reset, then throttled, then answered.
    with through_proxy(Faults(**MIX, seed=4)) as proxy:
        result = envdrift_cli("--debug", "sync", *FAST)
    assert result.exit_code == 0, result.output
    assert repo.wrong() == []
    assert (proxy.stats.resets, proxy.stats.errors, proxy.stats.requests) == (1, 1, 3)
    assert "attempt 1 of 9 failed, retrying in" in result.stderr  # --debug shows retries
    assert f"{MAPPINGS} mappings: {MAPPINGS} created" in result.stdout


def test_single_reads_survive_every_kind_of_fault(
    repo: ScratchRepo,
    guide_policy: None,
    through_proxy: Callable[[Faults], Any],
    envdrift_cli: Callable[..., Result],
) -> None:
    # The user guide's policy: no BatchGetSecretValue, so one GetSecretValue per secret.
    with through_proxy(Faults(**MIX, seed=28)) as proxy:
        result = envdrift_cli("sync", *FAST)
    assert result.exit_code == 0, result.output
    assert repo.wrong() == []
    stats = proxy.stats
    assert stats.requests >= MAPPINGS + stats.injected  # every fault was retried
    assert stats.injected >= 5
    assert stats.hangs >= 1
    assert set(stats.statuses) <= {400, 429, 500, 503}


def test_without_retries_each_failed_mapping_is_named_with_its_reason(
    repo: ScratchRepo,
    guide_policy: None,
    through_proxy: Callable[[Faults], Any],
    envdrift_cli: Callable[..., Result],
) -> None:
    # Seed 0: the first request (the batch, refused by IAM) passes; later ones draw 503s.
    faults = Faults(error_rate=0.3, error_statuses=(503,), seed=0)
    with through_proxy(faults) as proxy:
        result = envdrift_cli("sync", "--retries", "0", "--format", "text")
    assert result.exit_code == 1
    failed = sync_errors(result)
    assert 0 < len(failed) < MAPPINGS
    for reason in failed.values():
        assert "GetSecretValue on secret 'faults-" in reason
        assert "failed with HTTP 503; try again later (gave up after 1 attempt" in reason
    created = MAPPINGS - len(failed)
    assert f"{MAPPINGS} mappings: {created} created, {len(failed)} error" in result.stdout
    # The failed ones wrote nothing; the others are right.
    wrong = repo.wrong()
    assert sorted(repo.folders[name] for name in wrong) == sorted(failed)
    assert repo.missing() == wrong
    assert proxy.stats.errors >= len(failed)  # the batch denial could draw one too
    # Once the vault is healthy, a re-run completes the rest.
    again = envdrift_cli("sync")
    assert again.exit_code == 0, again.output
    assert repo.wrong() == []


def test_a_hung_vault_ends_the_run_within_its_bound(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    with through_proxy(Faults(hang_rate=1.0)) as proxy:
        started = time.monotonic()
        result = envdrift_cli("sync", "--timeout", "0.5", "--retries", "1", "--deadline", "10")
        elapsed = time.monotonic() - started
    assert result.exit_code == 1
    failed = sync_errors(result)
    assert sorted(failed) == sorted(repo.folders.values())  # one error per mapping
    for reason in failed.values():
        assert "Read timeout" in reason or "ReadTimeoutError" in reason
        assert re.search(r"gave up after \d attempts? in [\d.]+ s", reason)
    # Two attempts of 0.5 s and a wait of at most 0.25 s (the slack: a loaded machine).
    assert elapsed < 1.25 + 5
    assert proxy.stats.hangs >= 1
    assert repo.missing() == list(repo.keys)


def test_an_unreachable_vault_gives_one_clear_error_per_mapping(
    repo: ScratchRepo, envdrift_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    started = time.monotonic()
    result = envdrift_cli("sync", "--retries", "2", "--jobs", "4")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    failed = sync_errors(result)
    assert sorted(failed) == sorted(repo.folders.values())
    for reason in failed.values():
        assert f"cannot reach AWS Secrets Manager at {closed}" in reason
    assert elapsed < 30


def test_ctrl_c_against_a_hung_vault_exits_130_at_once(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], tmp_path: Path
) -> None:
    with through_proxy(Faults(hang_rate=1.0)) as proxy:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENVDRIFT_")}
        stopped = interrupt_hung_sync(repo, proxy, {**env, "HOME": str(tmp_path)})
    print(f"aws: Ctrl-C to exit against a hung vault: {stopped.seconds:.2f} s")
    stopped.check()
