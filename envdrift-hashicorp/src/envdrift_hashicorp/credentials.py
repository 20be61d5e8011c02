"""Which credential to log in with, looked up in the order the issue and the Vault CLI use.

1. ``VAULT_TOKEN``;
2. the token file ``vault login`` writes, ``~/.vault-token``;
3. AppRole, when ``[vault.hashicorp] auth = "approle"``: role and secret ids from
   ``VAULT_ROLE_ID``/``VAULT_SECRET_ID``, or from ``role_id_file``/``secret_id_file``.

Nothing here talks to the network; the backend does the AppRole login. A credential's
``repr`` never shows a token or an id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift import ConfigError, PermissionDeniedError, Secret

if TYPE_CHECKING:
    from collections.abc import Mapping

    from envdrift_hashicorp.settings import Settings

__all__ = ["NO_CREDENTIAL_HELP", "Credential", "find_credential"]

NO_CREDENTIAL_HELP = (
    "set VAULT_TOKEN, or run `vault login` (it writes ~/.vault-token), or use AppRole: "
    '[vault.hashicorp] auth = "approle" with VAULT_ROLE_ID and VAULT_SECRET_ID '
    "(or role_id_file and secret_id_file)"
)


@dataclass(frozen=True)
class Credential:
    """What to authenticate with.

    Attributes:
        method: How it was found, for ``--debug`` output
            (``"the token in VAULT_TOKEN"``, ``"AppRole login at auth/approle …"``).
        token_name: How messages call the token this gives (``"the AppRole token"``).
        token: A ready token, or ``None`` for an AppRole login.
        role_id: The AppRole role id (AppRole only).
        secret_id: The AppRole secret id, when the role requires one.
    """

    method: str
    token_name: str
    token: Secret | None = None
    role_id: Secret | None = None
    secret_id: Secret | None = None


def find_credential(settings: Settings, environ: Mapping[str, str] | None = None) -> Credential:
    """Return the first credential available, in the documented order.

    Raises:
        PermissionDeniedError: there is none; the message names the three ways to add one.
        ConfigError: a configured id file cannot be read.
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
    raise PermissionDeniedError(f"no Vault token found: {NO_CREDENTIAL_HELP}")


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
