"""moto_server: a real HTTP server speaking the AWS APIs, for Secrets Manager tests.

``moto_server()`` starts it on a free loopback port, waits until it answers and yields
its endpoint; clients reach it through the standard ``AWS_ENDPOINT_URL`` setting. State
lives in the server: ``reset()`` wipes it between tests (cheaper than a restart), and
``enforce_auth()`` switches moto's IAM checks on and off at runtime.

Standalone, for the demo and benchmarks::

    python -m tests.servers.moto --port 5000     # prints AWS_ENDPOINT_URL=…; Ctrl-C stops

boto3 is imported only by ``create_iam_user``, so this module stays importable anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import signal
import sys
import tempfile
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tests.servers import free_port, managed_process, wait_for_http

__all__ = ["create_iam_user", "enforce_auth", "moto_server", "reset"]


@contextlib.contextmanager
def moto_server(*, port: int | None = None, log_dir: Path | None = None) -> Iterator[str]:
    """Run ``moto_server`` on 127.0.0.1 and yield its endpoint (``http://127.0.0.1:PORT``).

    Args:
        port: The port to listen on; a free one when ``None``.
        log_dir: Where ``moto.log`` goes; a temporary directory when ``None``.
    """
    port = port or free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with contextlib.ExitStack() as stack:
        if log_dir is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="moto-")))
        log = log_dir / "moto.log"
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        proc = stack.enter_context(managed_process(argv, log=log))
        wait_for_http(f"{endpoint}/moto-api/", proc=proc, log=log)
        yield endpoint


def _post(endpoint: str, path: str, body: bytes = b"") -> None:
    # moto's werkzeug swallows form-encoded bodies: send anything else (see test-servers.md).
    request = urllib.request.Request(
        f"{endpoint}{path}", data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def reset(endpoint: str) -> None:
    """Wipe every service's state (secrets, IAM users, …) in the server at ``endpoint``."""
    _post(endpoint, "/moto-api/reset")


def enforce_auth(endpoint: str, enabled: bool = True) -> None:
    """Switch moto's IAM enforcement on (every request checked from now on) or off.

    ``/moto-api/*`` itself is never checked, so this can always switch it off again.
    """
    _post(endpoint, "/moto-api/reset-auth", b"0" if enabled else b"inf")


@functools.cache
def _iam_client(endpoint: str) -> Any:
    # IAM's service model is large: one client per server rather than one per user.
    import boto3

    return boto3.Session().client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_iam_user(endpoint: str, user: str, actions: Iterable[str]) -> tuple[str, str]:
    """Create IAM ``user`` allowed ``actions`` on every resource; return its access key pair.

    Call it while enforcement is off. moto checks Secrets Manager calls against resource
    ``*``, so permissions can only be shaped per action, not per secret.
    """
    iam = _iam_client(endpoint)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": sorted(actions), "Resource": "*"}],
    }
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user, PolicyName=f"{user}-policy", PolicyDocument=json.dumps(policy)
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def main(argv: list[str] | None = None) -> None:
    """Run moto_server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.servers.moto", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument("--log-dir", type=Path, default=None, help="where moto.log goes")
    args = parser.parse_args(argv)
    # SIGTERM ends the run like Ctrl-C does, so the server is stopped on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # The interrupt may land anywhere, even inside print(): the server stops either way.
    with (
        contextlib.suppress(KeyboardInterrupt),
        moto_server(port=args.port, log_dir=args.log_dir) as endpoint,
    ):
        print(f"AWS_ENDPOINT_URL={endpoint}", flush=True)
        signal.pause()


if __name__ == "__main__":
    main()
