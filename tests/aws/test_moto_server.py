"""The moto_server helper the tests, the demo and the benchmarks share."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.helpers import REPO_ROOT
from tests.servers import wait_for_http
from tests.servers.moto import enforce_auth, reset


def test_reset_wipes_state(moto_endpoint: str, sm: Any) -> None:
    sm.create_secret(Name="before-reset", SecretString="v")
    reset(moto_endpoint)
    assert sm.list_secrets()["SecretList"] == []


def test_enforce_auth_switches_on_and_off(moto_endpoint: str, sm: Any) -> None:
    from botocore.exceptions import ClientError

    enforce_auth(moto_endpoint, enabled=True)
    try:
        with pytest.raises(ClientError) as info:
            sm.list_secrets()
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        enforce_auth(moto_endpoint, enabled=False)
    assert sm.list_secrets()["SecretList"] == []


def test_runs_standalone_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.servers.moto"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("AWS_ENDPOINT_URL=http://127.0.0.1:")
        endpoint = line.split("=", 1)[1]
        wait_for_http(f"{endpoint}/moto-api/", timeout=5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
