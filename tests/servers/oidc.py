"""A JWT issuer the tests hold, and a local stand-in for GitHub Actions' ID-token endpoint.

Vault's (and OpenBao's) ``jwt`` auth method checks a JWT's signature against the public
keys it is configured with (``jwt_validation_pubkeys``); the issuer here signs RS256 JWTs
with ``cryptography`` so a test can configure the real server with its public key and
hand envdrift tokens that Vault really verifies: right, for another audience, expired.

``github_token_endpoint`` answers what a runner's ``ACTIONS_ID_TOKEN_REQUEST_URL``
answers: ``GET <url>&audience=AUD`` with ``Authorization: bearer <request token>`` gives
``{"value": "<JWT for AUD>"}``; a wrong bearer gets 401, as on GitHub.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["GithubTokenEndpoint", "JwtIssuer", "github_token_endpoint"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class JwtIssuer:
    """An RSA key pair that signs JWTs (RS256), like a CI system's OIDC provider."""

    def __init__(self, issuer: str = "https://token.actions.example.test") -> None:
        self.issuer = issuer
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_key_pem(self) -> str:
        """The public key, as ``jwt_validation_pubkeys`` takes it."""
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def token(
        self, audience: str, *, subject: str = "repo:acme/shop:ref:refs/heads/main", ttl: int = 300
    ) -> str:
        """A signed JWT for ``audience``; a negative ``ttl`` gives one that has expired."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": min(now, now + ttl) - 5,
            "nbf": min(now, now + ttl) - 5,
            "exp": now + ttl,
        }
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = self._key.sign(
            f"{header}.{payload}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{header}.{payload}.{_b64(signature)}"


@dataclass
class GithubTokenEndpoint:
    """A running stand-in for the endpoint behind ``ACTIONS_ID_TOKEN_REQUEST_URL``.

    Attributes:
        url: What the runner puts in ``ACTIONS_ID_TOKEN_REQUEST_URL`` (with its query).
        request_token: What it puts in ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``.
        audiences: The audience of every request answered, in order (``None``: none asked).
        issued: Every JWT handed out.
    """

    url: str
    request_token: str
    audiences: list[str | None] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)


@contextlib.contextmanager
def github_token_endpoint(
    issuer: JwtIssuer,
    *,
    request_token: str = "gha-request-token-0123456789",
    default_audience: str = "https://github.com/acme",
) -> Iterator[GithubTokenEndpoint]:
    """Serve GitHub's ID-token API on a loopback port (in a thread) until the block ends."""
    endpoint: GithubTokenEndpoint

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parts.query)
            if self.headers.get("Authorization") != f"bearer {request_token}":
                self._answer(401, {"message": "Bad credentials"})
                return
            audience = query.get("audience", [None])[0]
            endpoint.audiences.append(audience)
            jwt = issuer.token(audience or default_audience)
            endpoint.issued.append(jwt)
            self._answer(200, {"count": 1, "value": jwt})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    # A runner's URL already carries a query (api-version), so clients append `&audience=`.
    endpoint = GithubTokenEndpoint(
        f"http://127.0.0.1:{port}/_apis/distributedtask/token?api-version=2.0", request_token
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
