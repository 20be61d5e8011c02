"""``envdrift sync`` against OpenBao through the fault-injecting proxy.

Every request to the real OpenBao dev server goes through ``tests.servers.proxy``, which
answers some with HTTP 429/500/503 (with Vault's own ``{"errors": [...]}`` body), resets
some connections and swallows others; hvac is untouched (``url`` points at the proxy).
The larger run (200 mappings) is ``tests/soak/test_faults_soak.py`` (``nox -s soak``).
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

from tests.helpers import sync_errors
from tests.servers.monorepo import ScratchRepo, interrupt_hung_sync
from tests.servers.openbao import OpenBao
from tests.servers.proxy import Faults, TcpProxy

MAPPINGS = 20
RATE_LIMITED = b'{"errors":["request path \\"secret/data/x\\": rate limit quota exceeded"]}'
#: 20 % answered with an error, 5 % reset, 5 % hung.
MIX = {
    "error_rate": 0.2,
    "reset_rate": 0.05,
    "hang_rate": 0.05,
    "error_statuses": (429, 500, 502, 503),
    "error_bodies": {429: RATE_LIMITED},
}


@pytest.fixture
def repo(
    vault_env: OpenBao, uid: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ScratchRepo:
    root = tmp_path / "repo"
    root.mkdir()
    repo = ScratchRepo(root, f"{uid}/faults", MAPPINGS)
    for name, key in repo.keys.items():
        vault_env.kv_put(f"secret/{name}", value=key)
    monkeypatch.chdir(root)
    return repo


@pytest.fixture
def through_proxy(openbao: OpenBao, repo: ScratchRepo) -> Callable[[Faults], Any]:
    """Point the repo's config at a proxy with ``faults`` in front of OpenBao."""

    @contextmanager
    def start(faults: Faults) -> Iterator[TcpProxy]:
        port = int(openbao.address.rsplit(":", 1)[1])
        with TcpProxy("127.0.0.1", port, faults=faults) as proxy:
            repo.write_config("hashicorp", f'url = "http://127.0.0.1:{proxy.port}"')
            yield proxy

    return start


def test_every_kind_of_transient_fault_is_retried(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    with through_proxy(Faults(**MIX, seed=28)) as proxy:
        result = envdrift_cli("sync", "--timeout", "2", "--retries", "8")
    assert result.exit_code == 0, result.output
    assert repo.wrong() == []
    assert proxy.stats.injected >= 5
    assert proxy.stats.hangs >= 1
    assert proxy.stats.requests >= MAPPINGS + proxy.stats.injected


def test_retry_after_from_vault_is_honoured(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    # Seed 28 draws two faults first: the KV version lookup is throttled twice.
    faults = Faults(
        error_rate=0.2,
        error_statuses=(429,),
        error_bodies={429: RATE_LIMITED},
        retry_after=0.3,
        seed=28,
    )
    with through_proxy(faults) as proxy:
        result = envdrift_cli("--debug", "sync")
    assert result.exit_code == 0, result.output
    assert repo.wrong() == []
    retried = [float(w) for w in re.findall(r"retrying in (\d+\.\d\d) s", result.stderr)]
    # Threads waiting on a throttled KV-version lookup share its answer, and its wait.
    assert len(retried) >= proxy.stats.errors >= 2
    assert all(wait >= 0.3 for wait in retried)  # at least what Retry-After asked
    assert "rate limit quota exceeded" in result.stderr


def test_a_mapping_that_keeps_failing_is_named_and_the_others_complete(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    broken = next(iter(repo.keys))
    faults = Faults(error_rate=1.0, error_statuses=(503,), only_if=f"/{broken} ".encode())
    with through_proxy(faults) as proxy:
        result = envdrift_cli("sync", "--retries", "2")
    assert result.exit_code == 1
    assert sync_errors(result) == {repo.folders[broken]: sync_errors(result)[repo.folders[broken]]}
    reason = sync_errors(result)[repo.folders[broken]]
    assert re.fullmatch(
        rf"Vault at http://127\.0\.0\.1:{proxy.port} \(from \[vault\.hashicorp\] url\) failed "
        rf"to read secret '{re.escape(broken)}': HTTP 503 \(gave up after 3 attempts in "
        r"[\d.]+ s: no retries left\)",
        reason,
    )
    assert proxy.stats.errors == 3
    assert repo.wrong() == [broken]
    assert f"{MAPPINGS} mappings: {MAPPINGS - 1} created, 1 error" in result.stdout


def test_a_hung_vault_is_given_up_on_quickly_with_one_error_per_mapping(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    with through_proxy(Faults(hang_rate=1.0)) as proxy:
        started = time.monotonic()
        result = envdrift_cli(
            "sync", "--timeout", "0.5", "--retries", "1", "--jobs", "4", "--deadline", "20"
        )
        elapsed = time.monotonic() - started
    assert result.exit_code == 1
    failed = sync_errors(result)
    assert sorted(failed) == sorted(repo.folders.values())  # one error per mapping
    untried = [r for r in failed.values() if r.startswith("not tried: vault 'hashicorp'")]
    timed_out = [r for r in failed.values() if r not in untried]
    assert all("did not answer within 0.5 s" in r for r in timed_out)
    assert len(timed_out) >= 5  # the breaker opened after five calls gave up...
    assert len(untried) >= 1  # ...and the rest failed at once
    for reason in untried:
        # At least the breaker's five; calls already in flight when it opened may add more.
        failed = re.search(r"failed (\d+) calls in a row, so it is taken to be down", reason)
        assert failed is not None, reason
        assert int(failed.group(1)) >= 5
        assert "did not answer within 0.5 s" in reason  # names the last failure
    # Two waves of four calls, each two attempts of 0.5 s and a short wait, then none.
    assert elapsed < 2 * 1.25 + 5
    assert proxy.stats.hangs < MAPPINGS * 3


def test_threads_waiting_on_a_hung_lookup_share_its_failure(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    # Four threads at a time; one asks for the mount's KV version and hangs. The others,
    # queued behind it (for the client or for the lookup), take its failure as theirs
    # instead of each sending the same hung request in turn: one hung request per wave
    # of four, until five failed calls open the breaker and the rest fail at once.
    with through_proxy(Faults(hang_rate=1.0)) as proxy:
        started = time.monotonic()
        result = envdrift_cli("sync", "--timeout", "1", "--retries", "0", "--jobs", "4")
        elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert proxy.stats.hangs <= 3  # not one per mapping (20)
    assert elapsed < 3 + 5  # (slack: a loaded machine)


def test_ctrl_c_against_a_hung_vault_exits_130_at_once(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], openbao: OpenBao, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "ENVDRIFT_"))}
    env.update(openbao.env(), HOME=str(tmp_path))
    with through_proxy(Faults(hang_rate=1.0)) as proxy:
        stopped = interrupt_hung_sync(repo, proxy, env)
    print(f"hashicorp: Ctrl-C to exit against a hung vault: {stopped.seconds:.2f} s")
    stopped.check()
