"""JWT/OIDC login (``auth = "jwt"``) against OpenBao's real ``jwt`` auth method.

The server checks every JWT's signature with the public key of an issuer the tests hold
(``jwt_validation_pubkeys``) and binds the role to one audience, so a token for another
audience or an expired one is refused by Vault itself, with Vault's own reason.
"""

from __future__ import annotations

import logging
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from envdrift import ConfigError, PermissionDeniedError
from envdrift_hashicorp import HashicorpVault

from tests.hashicorp.test_sync_hashicorp import make_key
from tests.servers.oidc import GithubTokenEndpoint, JwtIssuer, github_token_endpoint
from tests.servers.openbao import OpenBao

MakeVault = Callable[..., HashicorpVault]

ROLE = "envdrift-ci"
AUDIENCE = "https://vault.envdrift.test"


def _enable_jwt(openbao: OpenBao, mount: str, issuer: JwtIssuer) -> None:
    try:
        openbao.api("POST", f"sys/auth/{mount}", {"type": "jwt"})
    except urllib.error.HTTPError as exc:  # enabled by an earlier module on this server
        if exc.code != 400:
            raise
    openbao.api(
        "POST",
        f"auth/{mount}/config",
        {"jwt_validation_pubkeys": [issuer.public_key_pem], "bound_issuer": issuer.issuer},
    )
    openbao.api(
        "POST",
        f"auth/{mount}/role/{ROLE}",
        {
            "role_type": "jwt",
            "bound_audiences": [AUDIENCE],
            "user_claim": "sub",
            "token_policies": ["envdrift-reader"],
            "token_ttl": "5m",
        },
    )


@pytest.fixture(scope="module")
def issuer(openbao: OpenBao) -> JwtIssuer:
    """An issuer whose public key the server's ``jwt`` auth method (at auth/jwt) trusts."""
    issuer = JwtIssuer()
    _enable_jwt(openbao, "jwt", issuer)
    return issuer


@pytest.fixture
def secret_path(openbao: OpenBao, uid: str) -> str:
    """A secret the role's policy may read."""
    openbao.kv_put(f"secret/readable/{uid}", value="jwt-test-value")
    return f"readable/{uid}"


@pytest.fixture
def endpoint(issuer: JwtIssuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[GithubTokenEndpoint]:
    """A GitHub Actions job with ``id-token: write``: the two variables the runner sets."""
    with github_token_endpoint(issuer) as endpoint:
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", endpoint.url)
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", endpoint.request_token)
        yield endpoint


def _jwt_vault(make_vault: MakeVault, openbao: OpenBao, **options: str) -> HashicorpVault:
    return make_vault({"url": openbao.address, "auth": "jwt", "jwt_role": ROLE, **options})


def _refusal(vault: HashicorpVault) -> str:
    """The message of the ``PermissionDeniedError`` that reading a readable secret raises."""
    with pytest.raises(PermissionDeniedError) as info:
        vault.fetch("readable/x")
    return str(info.value)


def test_login_with_the_jwt_in_vault_jwt(
    openbao: OpenBao,
    issuer: JwtIssuer,
    make_vault: MakeVault,
    secret_path: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    jwt = issuer.token(AUDIENCE)
    monkeypatch.setenv("VAULT_JWT", jwt)
    caplog.set_level(logging.DEBUG, logger="envdrift")
    vault = _jwt_vault(make_vault, openbao)
    assert vault.fetch(secret_path).reveal() == "jwt-test-value"
    assert f"JWT login at auth/jwt as role '{ROLE}' (JWT from VAULT_JWT)" in caplog.text
    assert "JWT login succeeded" in caplog.text
    token = vault._client.token  # the Vault token the login gave
    assert token
    assert jwt not in caplog.text
    assert token not in caplog.text


def test_login_with_the_jwt_in_a_file_relative_to_the_config(
    openbao: OpenBao,
    issuer: JwtIssuer,
    make_vault: MakeVault,
    secret_path: str,
    tmp_path: Path,
) -> None:
    # A Kubernetes service-account token is a file of one line, no newline.
    (tmp_path / "sa").mkdir()
    (tmp_path / "sa" / "token").write_text(issuer.token(AUDIENCE))
    vault = _jwt_vault(make_vault, openbao, jwt_file="sa/token")
    assert vault.fetch(secret_path).reveal() == "jwt-test-value"


def test_vault_jwt_wins_over_jwt_file(
    openbao: OpenBao,
    issuer: JwtIssuer,
    make_vault: MakeVault,
    secret_path: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "stale").write_text(issuer.token(AUDIENCE, ttl=-600))
    monkeypatch.setenv("VAULT_JWT", issuer.token(AUDIENCE))
    vault = _jwt_vault(make_vault, openbao, jwt_file="stale")
    assert vault.fetch(secret_path).reveal() == "jwt-test-value"


def test_login_with_a_token_from_the_github_actions_endpoint(
    openbao: OpenBao,
    make_vault: MakeVault,
    secret_path: str,
    endpoint: GithubTokenEndpoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="envdrift")
    vault = _jwt_vault(make_vault, openbao, jwt_audience=AUDIENCE)
    assert vault.fetch(secret_path).reveal() == "jwt-test-value"
    assert endpoint.audiences == [AUDIENCE]
    assert "GitHub Actions OIDC token" in caplog.text
    assert endpoint.issued[0] not in caplog.text
    assert endpoint.request_token not in caplog.text


def test_without_jwt_audience_github_gives_its_default_audience_and_vault_says_no(
    openbao: OpenBao,
    make_vault: MakeVault,
    endpoint: GithubTokenEndpoint,
) -> None:
    message = _refusal(_jwt_vault(make_vault, openbao))
    assert endpoint.audiences == [None]
    assert f"role '{ROLE}'" in message
    assert "invalid audience" in message
    assert "jwt_audience" in message


def test_a_jwt_for_another_audience_fails_in_one_line_naming_role_and_reason(
    openbao: OpenBao,
    issuer: JwtIssuer,
    make_vault: MakeVault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jwt = issuer.token("https://somebody-else.test")
    monkeypatch.setenv("VAULT_JWT", jwt)
    message = _refusal(_jwt_vault(make_vault, openbao))
    assert "\n" not in message
    assert f"JWT login as role '{ROLE}' at auth/jwt failed" in message
    assert "invalid audience (aud) claim" in message  # Vault's own words
    assert "VAULT_JWT" in message
    assert jwt not in message
    assert jwt.split(".")[1] not in message  # not even the claims


def test_an_expired_jwt_fails_with_vaults_reason(
    openbao: OpenBao,
    issuer: JwtIssuer,
    make_vault: MakeVault,
    tmp_path: Path,
) -> None:
    (tmp_path / "token").write_text(issuer.token(AUDIENCE, ttl=-600))
    message = _refusal(_jwt_vault(make_vault, openbao, jwt_file="token"))
    assert f"role '{ROLE}'" in message
    assert "token is expired" in message
    assert str(tmp_path / "token") in message


def test_an_unknown_role_or_mount_says_which(
    openbao: OpenBao,
    issuer: JwtIssuer,
    make_vault: MakeVault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_JWT", issuer.token(AUDIENCE))
    with pytest.raises(PermissionDeniedError, match='role "no-such-role" could not be found'):
        _jwt_vault(make_vault, openbao, jwt_role="no-such-role").fetch("readable/x")
    with pytest.raises(PermissionDeniedError, match="is a JWT auth method enabled at auth/nowhere"):
        _jwt_vault(make_vault, openbao, jwt_mount="nowhere").fetch("readable/x")


def test_jwt_mount_names_where_the_method_is_enabled(
    openbao: OpenBao,
    issuer: JwtIssuer,
    make_vault: MakeVault,
    secret_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _enable_jwt(openbao, "gha", issuer)
    monkeypatch.setenv("VAULT_JWT", issuer.token(AUDIENCE))
    vault = _jwt_vault(make_vault, openbao, jwt_mount="gha")
    assert vault.fetch(secret_path).reveal() == "jwt-test-value"


def test_the_github_endpoint_refusing_is_clear_and_never_shows_the_request_token(
    openbao: OpenBao,
    make_vault: MakeVault,
    endpoint: GithubTokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong-request-token-42")
    message = _refusal(_jwt_vault(make_vault, openbao, jwt_audience=AUDIENCE))
    assert "GitHub Actions OIDC token" in message
    assert "HTTP 401" in message
    assert "id-token: write" in message
    assert "wrong-request-token-42" not in message


def test_no_jwt_anywhere_names_every_source(
    openbao: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL", raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    message = _refusal(_jwt_vault(make_vault, openbao))
    for source in ("VAULT_JWT", "jwt_file", "ACTIONS_ID_TOKEN_REQUEST_URL", "id-token: write"):
        assert source in message


def test_a_missing_jwt_file_is_a_config_error(
    openbao: OpenBao, make_vault: MakeVault, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=f"{tmp_path / 'nope'}: no such file"):
        _jwt_vault(make_vault, openbao, jwt_file="nope").fetch("readable/x")


def test_vault_token_still_wins_over_a_configured_jwt_login(
    openbao: OpenBao,
    make_vault: MakeVault,
    secret_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A developer with `vault login` done runs the CI config on a laptop.
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    assert _jwt_vault(make_vault, openbao).fetch(secret_path).reveal() == "jwt-test-value"


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"auth": "jwt"}, 'auth = "jwt" needs jwt_role'),
        ({"auth": "jwt", "jwt_role": ""}, 'auth = "jwt" needs jwt_role'),
        ({"auth": "jwt", "jwt_role": ROLE, "jwt_mount": "a b"}, "jwt_mount"),
    ],
)
def test_bad_jwt_settings_are_config_errors(
    make_vault: MakeVault, options: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigError, match=complaint):
        make_vault(options)


# -- the CLI, as a pipeline runs it ---------------------------------------------------------


def test_sync_ci_logs_in_with_a_jwt_and_writes_the_key(
    openbao: OpenBao,
    issuer: JwtIssuer,
    uid: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    envdrift_cli: Callable[..., Result],
) -> None:
    key = make_key(f"jwt-{uid}")
    openbao.kv_put(f"secret/readable/{uid}/prod-key", value=key)
    (tmp_path / "services" / "api").mkdir(parents=True)
    (tmp_path / "envdrift.toml").write_text(
        f'[vault]\nprovider = "hashicorp"\n\n[vault.hashicorp]\nurl = "{openbao.address}"\n'
        f'auth = "jwt"\njwt_role = "{ROLE}"\n\n[[vault.sync.mappings]]\n'
        f'secret_name = "readable/{uid}/prod-key"\nfolder_path = "services/api"\n'
        'environment = "production"\n'
    )
    monkeypatch.chdir(tmp_path)
    good, foreign = issuer.token(AUDIENCE), issuer.token("https://somebody-else.test")

    monkeypatch.setenv("VAULT_JWT", foreign)
    refused = envdrift_cli("--debug", "sync", "--ci")
    assert refused.exit_code == 1
    assert "invalid audience" in refused.output
    assert foreign not in refused.output
    assert not (tmp_path / "services" / "api" / ".env.keys").exists()

    monkeypatch.setenv("VAULT_JWT", good)
    result = envdrift_cli("--debug", "sync", "--ci", allow_keys=False)
    assert result.exit_code == 0, result.output
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={key}" in (
        tmp_path / "services" / "api" / ".env.keys"
    ).read_text(encoding="utf-8")
    assert good not in result.output
    assert f"JWT login at auth/jwt as role '{ROLE}'" in result.output
