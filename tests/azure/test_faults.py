"""``envdrift sync`` against Azure Key Vault (our HTTPS test server) under faults.

The Key Vault traffic is TLS, so the fault-injecting proxy (``tests.servers.proxy``) can
only act on connections: it resets some and swallows others. The server itself answers
429 (with ``Retry-After``) and 503 for chosen secrets. The unmodified SDK runs through
both; only the vault URL points at the proxy. The larger run is
``tests/soak/test_faults_soak.py`` (``nox -s soak``).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.azure.conftest import APP
from tests.helpers import sync_errors
from tests.servers.azure_keyvault import KeyVaultEndpoint
from tests.servers.monorepo import ScratchRepo, interrupt_hung_sync
from tests.servers.proxy import Faults, TcpProxy

MAPPINGS = 12
#: ``envdrift`` in a child process that resolves ``*.localhost`` like the tests do.
LOOPBACK_ENVDRIFT = (
    sys.executable,
    "-c",
    "from tests.servers.azure_keyvault import loopback_dns\n"
    "from envdrift.__main__ import main\n"
    "with loopback_dns():\n"
    "    main()\n",
)


@pytest.fixture
def repo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keyvault: KeyVaultEndpoint,
    sign_in_as: Callable[..., None],
    own_vault: str,
) -> ScratchRepo:
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    sign_in_as(APP)
    root = tmp_path / "repo"
    root.mkdir()
    repo = ScratchRepo(root, "faults", MAPPINGS)
    credential = DefaultAzureCredential(disable_instance_discovery=True)
    with SecretClient(keyvault.vault_url(own_vault), credential) as client:
        for name, key in repo.keys.items():
            client.set_secret(name, key)
    # The proxy's port is not the one the server names in its challenge.
    monkeypatch.setenv("ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE", "0")
    monkeypatch.chdir(root)
    return repo


@pytest.fixture
def through_proxy(
    keyvault: KeyVaultEndpoint, repo: ScratchRepo, own_vault: str
) -> Callable[[Faults], Any]:
    @contextmanager
    def start(faults: Faults) -> Iterator[TcpProxy]:
        with TcpProxy("127.0.0.1", keyvault.port, faults=faults) as proxy:
            url = f"https://{own_vault}.localhost:{proxy.port}/"
            repo.write_config("azure", f'vault_url = "{url}"')
            yield proxy

    return start


def test_resets_hangs_throttling_and_5xx_are_all_retried(
    repo: ScratchRepo,
    through_proxy: Callable[[Faults], Any],
    keyvault: KeyVaultEndpoint,
    envdrift_cli: Callable[..., Result],
) -> None:
    names = list(repo.keys)
    keyvault.add_fault(names[0], 429, count=2, retry_after="0.2")
    keyvault.add_fault(names[1], 503, count=1)
    before = keyvault.stats().get("faults", 0)
    # Through TLS the proxy draws a fault for each burst of a connection (handshake
    # messages too), so a request meets two or three draws: rates per draw stay low.
    faults = Faults(reset_rate=0.08, hang_rate=0.02, seed=4)
    with through_proxy(faults) as proxy:
        result = envdrift_cli("--debug", "sync", "--timeout", "2", "--retries", "8")
    assert result.exit_code == 0, result.output
    assert repo.wrong() == []
    assert keyvault.stats().get("faults", 0) - before == 3  # every server fault was hit
    assert proxy.stats.resets + proxy.stats.hangs >= 1
    retried = re.findall(r"retrying in (\d+\.\d\d) s: vault 'azure' .* answered 429", result.stderr)
    assert len(retried) == 2
    assert all(float(wait) >= 0.2 for wait in retried)  # Retry-After honoured


def test_a_secret_that_keeps_failing_is_named_and_the_others_complete(
    repo: ScratchRepo,
    through_proxy: Callable[[Faults], Any],
    keyvault: KeyVaultEndpoint,
    envdrift_cli: Callable[..., Result],
) -> None:
    broken = list(repo.keys)[3]
    keyvault.add_fault(broken, 503, count=None)
    try:
        with through_proxy(Faults()):
            result = envdrift_cli("sync", "--retries", "2")
    finally:
        keyvault.add_fault(broken, 503, count=0)
    assert result.exit_code == 1
    failed = sync_errors(result)
    assert list(failed) == [repo.folders[broken]]
    assert re.search(
        r"answered 503 \(.*\); try again later \(gave up after 3 attempts in [\d.]+ s: "
        r"no retries left\)$",
        failed[repo.folders[broken]],
    )
    assert repo.wrong() == [broken]


def test_a_hung_vault_ends_within_its_bound(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any], envdrift_cli: Callable[..., Result]
) -> None:
    with through_proxy(Faults(hang_rate=1.0)):
        started = time.monotonic()
        result = envdrift_cli("sync", "--timeout", "0.5", "--retries", "1", "--deadline", "10")
        elapsed = time.monotonic() - started
    assert result.exit_code == 1
    failed = sync_errors(result)
    assert sorted(failed) == sorted(repo.folders.values())  # one error per mapping
    assert elapsed < 10 + 0.5 + 5  # the deadline plus one request timeout (slack: load)
    assert repo.missing() == list(repo.keys)


def test_ctrl_c_against_a_hung_vault_exits_130_at_once(
    repo: ScratchRepo, through_proxy: Callable[[Faults], Any]
) -> None:
    # The Azure SDK's requests hang inside TLS here: the proxy swallows the connection.
    # The child resolves <vault>.localhost as this process does (loopback_dns).
    with through_proxy(Faults(hang_rate=1.0)) as proxy:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        stopped = interrupt_hung_sync(repo, proxy, env, LOOPBACK_ENVDRIFT)
    print(f"azure: Ctrl-C to exit against a hung vault: {stopped.seconds:.2f} s")
    stopped.check()
