"""An Azure Key Vault test server: the Key Vault data plane plus an Entra token endpoint.

No Azure Key Vault emulator can be installed on our machines (see
``/work/shared/notes/test-servers.md``), so this server speaks the parts of the real
protocol envdrift uses, closely enough that the **unmodified** Azure SDK
(``azure-keyvault-secrets`` + ``azure-identity`` + MSAL) runs against it over real TLS:

* HTTPS only, with a throwaway CA (PyPI ``trustme``) written to ``<cert-dir>/ca.pem``
  *before* the port is bound, so "port open" implies "CA present". A certificate is
  minted on the fly for every SNI host name, so any ``<vault>.localhost`` or
  ``<vault>.vault.azure.net`` name can be served from one port.
* Key Vault's challenge handshake: a request without a valid bearer token gets 401 and
  ``WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="<resource>"``.
* Secrets: set (new version), get (latest or a version), update (PATCH), list and list
  versions (paged through ``nextLink``), delete / recover / purge and ``deletedsecrets``.
* Key Vault's error bodies: 404 ``SecretNotFound``, 400 ``BadParameter`` (names outside
  ``[0-9a-zA-Z-]{1,127}``), 403 ``Forbidden`` with inner ``AccessDenied`` (or
  ``ForbiddenByRbac`` with ``--rbac``) and ``SecretDisabled``, 409 ``Conflict`` with inner
  ``ObjectIsDeletedButRecoverable``.
* Entra: ``/{tenant}/v2.0/.well-known/openid-configuration`` and the client-credentials
  token endpoint ``/{tenant}/oauth2/v2.0/token``. ``--client-secret ID=SECRET`` registers
  an app (a wrong secret gets ``invalid_client`` / AADSTS7000215); ``--deny-client ID``
  makes that app's tokens get 403 from Key Vault; ``--permissions ID=get,list`` grants an
  app only those secret permissions (an access policy), e.g. ``get`` without ``list``.

**Several vaults on one port.** Real vaults differ by host name
(``https://<vault>.vault.azure.net``), so the server keeps one store per vault name, taken
from the first label of the ``Host`` header (``prod.localhost:8443`` → ``prod``). An IP
address or a bare ``localhost`` is the default vault (``--default-vault``). Clients reach
``<vault>.localhost`` names through RFC 6761 loopback resolution (systemd-resolved and
curl do it; where glibc does not, ``loopback_dns()`` does it in-process).

Test hooks, outside Key Vault's URL space and without authentication:
``GET /_envdrift/stats`` (request and token counters) and ``POST /_envdrift/faults``
(``{"secret": NAME, "status": 503, "count": 2}``: the next ``count`` requests for that
secret, in any vault, answer ``status``; ``count: null`` means forever).

Python: ``with keyvault_server(tmp_path) as kv: kv.vault_url("prod"), kv.ca_path, …``.
Standalone (the demo starts it so)::

    python -m tests.servers.azure_keyvault --port 8443 --cert-dir .ci/certs \\
        --client-secret app-1=s3cret --permissions reader=get --secret prod/app-key=…
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers._keyvault_service import (
    DEFAULT_TENANT,
    SECRET_PERMISSIONS,
    Fault,
    KeyVaultHTTPServer,
    ServerConfig,
    tls_context,
)

__all__ = [
    "DEFAULT_TENANT",
    "KeyVaultEndpoint",
    "ServerConfig",
    "keyvault_server",
    "loopback_dns",
    "main",
]

# -- Python API for tests, the demo and benchmarks --------------------------------------


@dataclass(frozen=True)
class KeyVaultEndpoint:
    """A running test server, as ``keyvault_server`` yields it.

    Attributes:
        port: The TLS port on 127.0.0.1.
        ca_path: The throwaway CA, for ``REQUESTS_CA_BUNDLE``.
        tenant_id: The tenant the challenge names (``AZURE_TENANT_ID`` must equal it).
        client_secrets: The registered apps and their secrets.
        log: The server's output.
        pid: The server process (benchmarks read its CPU time).
    """

    port: int
    ca_path: Path
    tenant_id: str
    client_secrets: Mapping[str, str]
    log: Path
    pid: int

    @property
    def authority_host(self) -> str:
        """What to put in ``AZURE_AUTHORITY_HOST``."""
        return f"https://localhost:{self.port}"

    def vault_url(self, vault: str | None = None) -> str:
        """``https://<vault>.localhost:<port>/``, or ``https://127.0.0.1:<port>/`` for None."""
        host = f"{vault}.localhost" if vault else "127.0.0.1"
        return f"https://{host}:{self.port}/"

    @property
    def vault_url_template(self) -> str:
        """A ``{name}`` template selecting vaults on this server by name."""
        return f"https://{{name}}.localhost:{self.port}/"

    def credential_env(self, client_id: str, secret: str | None = None) -> dict[str, str]:
        """The environment ``DefaultAzureCredential`` reads, for app ``client_id``."""
        return {
            "AZURE_CLIENT_ID": client_id,
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_SECRET": secret if secret is not None else self.client_secrets[client_id],
            "AZURE_AUTHORITY_HOST": self.authority_host,
            "REQUESTS_CA_BUNDLE": str(self.ca_path),
        }

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        import urllib.request

        context = ssl.create_default_context(cafile=str(self.ca_path))
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"https://localhost:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def stats(self) -> dict[str, int]:
        """Counters: ``requests`` (to Key Vault, 401s included), ``tokens`` issued, ``faults``."""
        result: dict[str, int] = self._call("GET", "/_envdrift/stats")
        return result

    def add_fault(
        self, secret: str, status: int, count: int | None = None, retry_after: str | None = None
    ) -> None:
        """Answer the next ``count`` requests for ``secret`` (``None``: all, 0: none again).

        ``retry_after`` (seconds, as text) adds a ``Retry-After`` header, which the SDK
        honours instead of its own backoff.
        """
        payload = {"secret": secret, "status": status, "count": count, "retry_after": retry_after}
        self._call("POST", "/_envdrift/faults", payload)


@contextlib.contextmanager
def keyvault_server(
    workdir: Path,
    *,
    client_secrets: Mapping[str, str] | None = None,
    permissions: Mapping[str, Iterable[str]] | None = None,
    deny_clients: Iterable[str] = (),
    page_size: int = 25,
    resource: str | None = None,
    rbac: bool = False,
    tenant: str = DEFAULT_TENANT,
) -> Iterator[KeyVaultEndpoint]:
    """Start the server as its own process (exactly as the demo does), yield, stop it.

    ``resource`` defaults to ``https://localhost:<port>``, which makes
    ``https://<vault>.localhost:<port>`` vault URLs pass the SDK's challenge-resource check
    unchanged (the way ``*.vault.azure.net`` passes it against ``https://vault.azure.net``).
    """
    from tests.servers import free_port, managed_process, wait_for_http

    port = free_port()
    cert_dir = workdir / f"keyvault-{port}"
    secrets_ = dict(client_secrets or {})
    argv = [
        sys.executable,
        "-m",
        "tests.servers.azure_keyvault",
        "--port",
        str(port),
        "--cert-dir",
        str(cert_dir),
        "--tenant",
        tenant,
        "--page-size",
        str(page_size),
        "--resource",
        resource or f"https://localhost:{port}",
    ]
    for client, secret in secrets_.items():
        argv += ["--client-secret", f"{client}={secret}"]
    for client, granted in (permissions or {}).items():
        argv += ["--permissions", f"{client}={','.join(granted)}"]
    for client in deny_clients:
        argv += ["--deny-client", client]
    if rbac:
        argv.append("--rbac")
    log = workdir / f"keyvault-{port}.log"
    # Run from the repository root, where `python -m tests.servers…` finds its package.
    with managed_process(argv, log=log, cwd=Path(__file__).resolve().parents[2]) as proc:
        ca = cert_dir / "ca.pem"
        # ca.pem appears before the port is bound; wait for it, then for the port.
        deadline = time.monotonic() + 30
        while not ca.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        wait_for_http(
            f"https://localhost:{port}/_envdrift/stats",
            cafile=str(ca) if ca.exists() else None,
            proc=proc,
            log=log,
        )
        yield KeyVaultEndpoint(port, ca, tenant, secrets_, log, proc.pid)


@contextlib.contextmanager
def loopback_dns() -> Iterator[None]:
    """In this process, resolve ``*.localhost`` to 127.0.0.1 and refuse every other name.

    RFC 6761 reserves ``localhost`` and its subdomains for loopback; systemd-resolved, curl
    and browsers resolve them so, glibc's ``files dns`` does not. Refusing all other names
    (``<vault>.vault.azure.net``, ``login.microsoftonline.com``) guarantees that a test can
    never reach a real cloud, whatever a config says. Name resolution only, what
    ``/etc/hosts`` lines would do: the SDK, TLS and HTTP are untouched.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name:
            name = name.lower().rstrip(".")
            if name.endswith(".localhost"):
                return real("127.0.0.1", *args, **kwargs)
            if name != "localhost" and not _is_ip(name):
                raise socket.gaierror(socket.EAI_NONAME, f"{name}: not resolved in tests")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


# -- command line ----------------------------------------------------------------------


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"{flag} wants ID=VALUE, got {value!r}")
        result[key] = rest
    return result


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8443, help="TLS port on 127.0.0.1")
    parser.add_argument("--cert-dir", type=Path, required=True, help="where ca.pem goes")
    parser.add_argument(
        "--san",
        action="append",
        default=[],
        help="extra name for the default certificate (SNI names get their own certificate anyway)",
    )
    parser.add_argument("--tenant", default=DEFAULT_TENANT)
    parser.add_argument(
        "--authority",
        default=ServerConfig.authority,
        help="authority URL the 401 challenge names (only its tenant matters)",
    )
    parser.add_argument(
        "--resource",
        default=ServerConfig.resource,
        help="resource the challenge names; tokens must be for it",
    )
    parser.add_argument("--page-size", type=int, default=ServerConfig.page_size)
    parser.add_argument(
        "--default-vault",
        default=ServerConfig.default_vault,
        help="vault name for requests to an IP address or bare localhost",
    )
    parser.add_argument(
        "--client-secret",
        action="append",
        default=[],
        metavar="ID=SECRET",
        help="register an app; once any is registered, others are refused",
    )
    parser.add_argument(
        "--deny-client",
        action="append",
        default=[],
        metavar="ID",
        help="this app's tokens get 403 from Key Vault",
    )
    parser.add_argument(
        "--permissions",
        action="append",
        default=[],
        metavar="ID=PERM,...",
        help=f"grant only these secret permissions ({', '.join(sorted(SECRET_PERMISSIONS))})",
    )
    parser.add_argument(
        "--rbac", action="store_true", help="403s look like Azure RBAC denials (ForbiddenByRbac)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SECRET=STATUS[:COUNT]",
        help="answer requests for SECRET with STATUS (COUNT times; default always)",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="[VAULT/]NAME=VALUE",
        help="start with this secret (in VAULT, else the default vault)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    permissions = {}
    for client, granted in _pairs(args.permissions, "--permissions").items():
        perms = frozenset(p.strip() for p in granted.split(",") if p.strip())
        unknown = perms - SECRET_PERMISSIONS
        if unknown:
            parser.error(f"unknown permission(s) {sorted(unknown)} for {client}")
        permissions[client] = perms
    config = ServerConfig(
        tenant=args.tenant,
        authority=args.authority,
        resource=args.resource,
        page_size=args.page_size,
        default_vault=args.default_vault,
        client_secrets=_pairs(args.client_secret, "--client-secret"),
        deny_clients=frozenset(args.deny_client),
        permissions=permissions,
        rbac=args.rbac,
    )
    faults = {}
    for secret, spec in _pairs(args.fault, "--fault").items():
        status, _, count = spec.partition(":")
        faults[secret.lower()] = Fault(int(status), int(count) if count else None)
    tls = tls_context(args.cert_dir, tuple(args.san))
    server = KeyVaultHTTPServer(args.port, tls, config, verbose=args.verbose)
    server.state.faults.update(faults)
    for spec in args.secret:
        target, sep, value = spec.partition("=")
        vault, _, name = target.rpartition("/")
        try:
            if not sep:
                raise ValueError("expected [VAULT/]NAME=VALUE")
            server.state.seed(vault or config.default_vault, name, value)
        except ValueError as exc:
            parser.error(f"--secret {target}: {exc}")
    _run(server, args.cert_dir)


def _run(server: KeyVaultHTTPServer, cert_dir: Path) -> None:
    import signal

    # SIGTERM (managed_process, the demo's trap) ends serve_forever cleanly.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    config = server.config
    print(
        f"Key Vault test server on https://localhost:{server.port} (CA {cert_dir / 'ca.pem'}, "
        f"tenant {config.tenant}, resource {config.resource})",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
