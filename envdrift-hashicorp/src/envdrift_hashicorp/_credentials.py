"""Which credential to log in with, looked up in the order the issue and the Vault CLI use.

1. ``VAULT_TOKEN``;
2. the token file ``vault login`` writes, ``~/.vault-token``;
3. the login ``[vault.hashicorp] auth`` names:

   - ``"approle"``: role and secret ids from ``VAULT_ROLE_ID``/``VAULT_SECRET_ID``, or
     from ``role_id_file``/``secret_id_file``;
   - ``"jwt"``: a JWT from ``VAULT_JWT``, or ``jwt_file``, or (on GitHub Actions with
     ``permissions: id-token: write``) the runner's OIDC token endpoint.

Finding a credential never talks to the network: the backend logs in, and asks GitHub
for its token (``JwtSource.get``) only then. A credential's ``repr`` never shows a
token, an id or a JWT.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift import ConfigError, PermissionDeniedError, Secret, UnavailableError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from envdrift_hashicorp._settings import Settings

__all__ = ["NO_CREDENTIAL_HELP", "Credential", "JwtSource", "find_credential"]

NO_CREDENTIAL_HELP = (
    "set VAULT_TOKEN, or run `vault login` (it writes ~/.vault-token), or use AppRole: "
    '[vault.hashicorp] auth = "approle" with VAULT_ROLE_ID and VAULT_SECRET_ID '
    '(or role_id_file and secret_id_file), or JWT: auth = "jwt" with jwt_role'
)
#: Where a JWT login's token can come from, for messages.
NO_JWT_HELP = (
    "set VAULT_JWT, or [vault.hashicorp] jwt_file (e.g. a Kubernetes service-account "
    "token), or on GitHub Actions give the job `permissions: id-token: write` (the runner "
    "then sets ACTIONS_ID_TOKEN_REQUEST_URL and envdrift asks it for a token)"
)
_GITHUB = "GitHub Actions OIDC token"


@dataclass(frozen=True)
class JwtSource:
    """Where a JWT login gets its JWT: one at hand, or GitHub Actions' OIDC provider.

    Attributes:
        where: Where it comes from, for messages (``"VAULT_JWT"``).
        value: The JWT, when it is at hand.
        request_url: ``ACTIONS_ID_TOKEN_REQUEST_URL``, when GitHub is to be asked.
        request_token: ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``, the bearer for that request.
        audience: The audience to ask GitHub for (``None``: GitHub's default).
    """

    where: str
    value: Secret | None = None
    request_url: str | None = None
    request_token: Secret | None = None
    audience: str | None = None

    def get(self, timeout: float) -> Secret:
        """Return the JWT, asking GitHub's token endpoint for it when it is not at hand.

        Raises:
            PermissionDeniedError: GitHub refused (the job lacks ``id-token: write``).
            UnavailableError: the endpoint could not be reached or failed (retried).
        """
        if self.value is not None:
            return self.value
        # Here, not at the top: urllib.request (http.client, ssl, email) is the costliest
        # import of this plugin, which every run that opens any vault loads.
        import urllib.error
        import urllib.parse
        import urllib.request

        assert self.request_url is not None
        assert self.request_token is not None
        url = self.request_url
        if self.audience:
            separator = "&" if urllib.parse.urlsplit(url).query else "?"
            url += f"{separator}audience={urllib.parse.quote(self.audience, safe='')}"
        request = urllib.request.Request(
            url,
            headers={
                "Authorization": f"bearer {self.request_token.reveal()}",
                "Accept": "application/json; api-version=2.0",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read(1 << 20)
        except urllib.error.HTTPError as exc:
            fix = "Does the job have `permissions: id-token: write`?"
            if exc.code >= 500 or exc.code == 429:
                raise UnavailableError(f"{self.where} failed: HTTP {exc.code}") from None
            raise PermissionDeniedError(
                f"cannot get a {_GITHUB} from ACTIONS_ID_TOKEN_REQUEST_URL: HTTP {exc.code}. {fix}"
            ) from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, a malformed URL
            reason = getattr(exc, "reason", None) or exc
            raise UnavailableError(
                f"cannot reach the {_GITHUB} endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): {reason}"
            ) from None
        try:
            value = json.loads(body).get("value")
        except (ValueError, AttributeError):
            value = None
        if not isinstance(value, str) or not value:
            raise PermissionDeniedError(
                f"the {_GITHUB} endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) answered without a token"
            )
        return Secret(value)


@dataclass(frozen=True)
class Credential:
    """What to authenticate with.

    Attributes:
        method: How it was found, for ``--debug`` output
            (``"the token in VAULT_TOKEN"``, ``"AppRole login at auth/approle …"``).
        token_name: How messages call the token this gives (``"the AppRole token"``).
        token: A ready token, or ``None`` for a login.
        role_id: The AppRole role id (AppRole only).
        secret_id: The AppRole secret id, when the role requires one.
        jwt: Where the JWT comes from (JWT login only).
    """

    method: str
    token_name: str
    token: Secret | None = None
    role_id: Secret | None = None
    secret_id: Secret | None = None
    jwt: JwtSource | None = None


def find_credential(settings: Settings, environ: Mapping[str, str] | None = None) -> Credential:
    """Return the first credential available, in the documented order.

    Raises:
        PermissionDeniedError: there is none; the message names the ways to add one.
        ConfigError: a configured id or JWT file cannot be read.
    """
    env = os.environ if environ is None else environ
    token = env.get("VAULT_TOKEN", "").strip()
    if token:
        where = "the token in VAULT_TOKEN"
        return Credential(where, where, token=Secret(token))
    token_file = _home(env) / ".vault-token"
    token = _read(token_file, "the Vault token file") or ""
    if token:
        return Credential(
            f"the token in ~/.vault-token ({token_file})",
            "the token in ~/.vault-token",
            token=Secret(token),
        )
    if settings.auth == "approle":
        role_id, role_from = _approle_id(env, "VAULT_ROLE_ID", settings.role_id_file)
        secret_id, _ = _approle_id(env, "VAULT_SECRET_ID", settings.secret_id_file)
        if role_id:
            return Credential(
                f"AppRole login at auth/{settings.approle_mount} (role id from {role_from})",
                f"the token from the AppRole login at auth/{settings.approle_mount}",
                role_id=Secret(role_id),
                secret_id=Secret(secret_id) if secret_id else None,
            )
        raise PermissionDeniedError(
            'no Vault credential found: auth = "approle" but neither VAULT_ROLE_ID nor '
            "[vault.hashicorp] role_id_file gives a role id, and there is no token; "
            + NO_CREDENTIAL_HELP
        )
    if settings.auth == "jwt":
        login = f"JWT login at auth/{settings.jwt_mount} as role '{settings.jwt_role}'"
        source = _jwt_source(settings, env)
        return Credential(
            f"{login} (JWT from {source.where})",
            f"the token from the JWT login as role '{settings.jwt_role}'",
            jwt=source,
        )
    raise PermissionDeniedError(f"no Vault token found: {NO_CREDENTIAL_HELP}")


def _jwt_source(settings: Settings, env: Mapping[str, str]) -> JwtSource:
    value = env.get("VAULT_JWT", "").strip()
    if value:
        return JwtSource("VAULT_JWT", Secret(value))
    if settings.jwt_file is not None:
        content = _read(settings.jwt_file, "the JWT file")
        if content is None:
            raise ConfigError(f"{settings.jwt_file}: no such file (jwt_file in [vault.hashicorp])")
        if not content:
            raise ConfigError(f"{settings.jwt_file} (jwt_file) is empty: it must hold the JWT")
        return JwtSource(f"jwt_file {settings.jwt_file}", Secret(content))
    url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", "").strip()
    bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "").strip()
    if url and bearer:
        audience = settings.jwt_audience
        asked = f"audience '{audience}'" if audience else "GitHub's default audience"
        return JwtSource(
            f"the {_GITHUB} endpoint ({asked})",
            request_url=url,
            request_token=Secret(bearer),
            audience=audience,
        )
    raise PermissionDeniedError(
        f"no JWT found: auth = \"jwt\" (role '{settings.jwt_role}') but there is no Vault "
        f"token and no JWT: {NO_JWT_HELP}"
    )


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _approle_id(env: Mapping[str, str], var: str, path: Path | None) -> tuple[str, str]:
    value = env.get(var, "").strip()
    if value:
        return value, var
    if path is not None:
        content = _read(path, f"the file for {var.lower().removeprefix('vault_')}")
        if content is None:
            raise ConfigError(f"{path}: no such file (set in [vault.hashicorp])")
        return content, str(path)
    return "", ""


def _read(path: Path, what: str) -> str | None:
    """Return the stripped content of ``path``, or ``None`` when it does not exist."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
        raise ConfigError(f"cannot read {what} {path}: {reason}") from None
