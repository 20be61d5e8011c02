"""Finding the address and the credential, and what a refused token is told, on real OpenBao."""

from __future__ import annotations

import logging
import urllib.error
from collections.abc import Callable
from pathlib import Path

import pytest
from envdrift import NotFoundError, PermissionDeniedError, Secret
from envdrift_hashicorp import HashicorpVault

from tests.servers import free_port
from tests.servers.openbao import OpenBao

MakeVault = Callable[..., HashicorpVault]


@pytest.fixture
def secret_path(openbao: OpenBao, uid: str) -> str:
    """A readable secret (under the reader policy's folder) holding ``auth-test-value``."""
    openbao.kv_put(f"secret/readable/{uid}", value="auth-test-value")
    return f"readable/{uid}"


@pytest.fixture
def approle(openbao: OpenBao) -> tuple[str, str]:
    """An AppRole role bound to the reader policy: ``(role_id, secret_id)``."""
    try:
        openbao.api("POST", "sys/auth/approle", {"type": "approle"})
    except urllib.error.HTTPError as exc:  # already enabled by an earlier test on this server
        if exc.code != 400:
            raise
    openbao.api("POST", "auth/approle/role/envdrift-ci", {"token_policies": ["envdrift-reader"]})
    role_id = openbao.api("GET", "auth/approle/role/envdrift-ci/role-id")["data"]["role_id"]
    secret_id = openbao.api("POST", "auth/approle/role/envdrift-ci/secret-id", {})["data"][
        "secret_id"
    ]
    return role_id, secret_id


def test_token_from_vault_token(
    openbao: OpenBao, make_vault: MakeVault, secret_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    vault = make_vault({"url": openbao.address})
    assert vault.fetch(secret_path).reveal() == "auth-test-value"


def test_token_from_the_vault_login_token_file(
    openbao: OpenBao,
    make_vault: MakeVault,
    secret_path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token_file = Path.home() / ".vault-token"  # HOME is a per-test directory (root conftest)
    token_file.write_text(openbao.root_token + "\n")  # `vault login` ends it without newline
    caplog.set_level(logging.DEBUG, logger="envdrift")
    vault = make_vault({"url": openbao.address})
    assert vault.fetch(secret_path).reveal() == "auth-test-value"
    assert f"the token in ~/.vault-token ({token_file})" in caplog.text
    assert openbao.root_token not in caplog.text


def test_vault_token_wins_over_the_token_file(
    openbao: OpenBao,
    make_vault: MakeVault,
    secret_path: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (Path.home() / ".vault-token").write_text("stale-token-from-last-week")
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    caplog.set_level(logging.DEBUG, logger="envdrift.hashicorp")
    assert make_vault({"url": openbao.address}).fetch(secret_path).reveal() == "auth-test-value"
    assert "authenticating with the token in VAULT_TOKEN" in caplog.text
    assert openbao.root_token not in caplog.text


def test_approle_login_from_environment(
    openbao: OpenBao,
    make_vault: MakeVault,
    secret_path: str,
    approle: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    role_id, secret_id = approle
    monkeypatch.setenv("VAULT_ROLE_ID", role_id)
    monkeypatch.setenv("VAULT_SECRET_ID", secret_id)
    caplog.set_level(logging.DEBUG, logger="envdrift")
    vault = make_vault({"url": openbao.address, "auth": "approle"})
    assert vault.fetch(secret_path).reveal() == "auth-test-value"
    assert "AppRole login at auth/approle (role id from VAULT_ROLE_ID)" in caplog.text
    assert "AppRole login succeeded" in caplog.text
    assert role_id not in caplog.text
    assert secret_id not in caplog.text


def test_approle_ids_from_files_relative_to_the_config(
    openbao: OpenBao,
    make_vault: MakeVault,
    secret_path: str,
    approle: tuple[str, str],
    tmp_path: Path,
) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "role-id").write_text(approle[0] + "\n")
    (tmp_path / "ci" / "secret-id").write_text(approle[1] + "\n")
    options = {
        "url": openbao.address,
        "auth": "approle",
        "role_id_file": "ci/role-id",
        "secret_id_file": "ci/secret-id",
    }
    vault = make_vault(options, base_dir=tmp_path)
    assert vault.fetch(secret_path).reveal() == "auth-test-value"


def test_approle_token_is_bound_to_its_policy(
    openbao: OpenBao,
    make_vault: MakeVault,
    approle: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    uid: str,
) -> None:
    monkeypatch.setenv("VAULT_ROLE_ID", approle[0])
    monkeypatch.setenv("VAULT_SECRET_ID", approle[1])
    with pytest.raises(PermissionDeniedError, match=f"'read' on secret/data/other/{uid}"):
        make_vault({"url": openbao.address, "auth": "approle"}).fetch(f"other/{uid}")


def test_a_wrong_approle_secret_id_is_a_clear_login_failure(
    openbao: OpenBao,
    make_vault: MakeVault,
    approle: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_ROLE_ID", approle[0])
    monkeypatch.setenv("VAULT_SECRET_ID", "0000-wrong-secret-id")
    with pytest.raises(PermissionDeniedError) as info:
        make_vault({"url": openbao.address, "auth": "approle"}).fetch("readable/x")
    message = str(info.value)
    assert "AppRole login failed" in message
    assert "VAULT_SECRET_ID" in message
    assert "0000-wrong-secret-id" not in message
    assert approle[0] not in message


def test_no_token_anywhere_names_the_three_ways(openbao: OpenBao, make_vault: MakeVault) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        make_vault({"url": openbao.address}).fetch("readable/x")
    message = str(info.value)
    assert "no Vault token found" in message
    assert "VAULT_TOKEN" in message
    assert "vault login" in message
    assert "~/.vault-token" in message
    assert 'auth = "approle"' in message


def test_approle_configured_without_a_role_id_says_what_is_missing(
    openbao: OpenBao, make_vault: MakeVault
) -> None:
    with pytest.raises(PermissionDeniedError, match="neither VAULT_ROLE_ID nor"):
        make_vault({"url": openbao.address, "auth": "approle"}).fetch("readable/x")


def test_a_bad_token_is_called_invalid_and_never_printed(
    openbao: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "s.not-a-real-token-0123456789")
    with pytest.raises(PermissionDeniedError) as info:
        make_vault({"url": openbao.address}).fetch("readable/x")
    message = str(info.value)
    assert "rejected the token in VAULT_TOKEN" in message
    assert "it is invalid, expired or revoked" in message
    assert "not-a-real-token" not in message


def test_restricted_policy_read_names_path_capability_and_policy_stanza(
    openbao: OpenBao,
    make_vault: MakeVault,
    reader_token: str,
    monkeypatch: pytest.MonkeyPatch,
    uid: str,
) -> None:
    openbao.kv_put(f"secret/apps/{uid}/prod-key", value="not-for-readers")
    monkeypatch.setenv("VAULT_TOKEN", reader_token)
    with pytest.raises(PermissionDeniedError) as info:
        make_vault({"url": openbao.address}).fetch(f"apps/{uid}/prod-key")
    message = str(info.value)
    assert f"cannot read secret 'apps/{uid}/prod-key'" in message
    assert f"needs 'read' on secret/data/apps/{uid}/prod-key" in message
    assert f'path "secret/data/apps/{uid}/prod-key" {{ capabilities = ["read"] }}' in message
    assert "not-for-readers" not in message
    assert reader_token not in message


def test_restricted_policy_write_and_list(
    openbao: OpenBao,
    make_vault: MakeVault,
    reader_token: str,
    secret_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", reader_token)
    vault = make_vault({"url": openbao.address})
    assert vault.fetch(secret_path).reveal() == "auth-test-value"
    with pytest.raises(PermissionDeniedError) as info:
        vault.store(secret_path, Secret("overwrite"))
    assert f"'create' and 'update' on secret/data/{secret_path}" in str(info.value)
    assert '"create", "update"' in str(info.value)
    with pytest.raises(PermissionDeniedError, match=r"'list' on secret/metadata/readable/"):
        vault.list("readable/")
    assert openbao.kv_get(f"secret/{secret_path}") == {"value": "auth-test-value"}


def test_check_reports_a_bad_token(
    openbao: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "s.revoked")
    with pytest.raises(PermissionDeniedError, match="invalid, expired or revoked"):
        make_vault({"url": openbao.address}).check()


def test_check_passes_for_a_token_that_may_only_read_one_folder(
    openbao: OpenBao, make_vault: MakeVault, reader_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", reader_token)
    make_vault({"url": openbao.address}).check()


# -- the address -------------------------------------------------------------------------


def _dead_address() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_address_precedence_cli_over_config_over_vault_addr(
    vault_env: OpenBao,
    make_vault: MakeVault,
    secret_path: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="envdrift.hashicorp")
    # VAULT_ADDR alone.
    assert make_vault().fetch(secret_path).reveal() == "auth-test-value"
    # [vault.hashicorp] url beats VAULT_ADDR.
    monkeypatch.setenv("VAULT_ADDR", _dead_address())
    config = make_vault({"url": vault_env.address})
    assert config.fetch(secret_path).reveal() == "auth-test-value"
    assert "(from [vault.hashicorp] url)" in caplog.text
    # --vault-url beats both.
    cli = make_vault({"url": _dead_address()}, overrides={"url": vault_env.address})
    assert cli.describe() == f"vault 'hashicorp' ({vault_env.address}, mount 'secret')"
    assert cli.fetch(secret_path).reveal() == "auth-test-value"
    assert "(from --vault-url)" in caplog.text


def test_namespace_from_config_or_vault_namespace(
    vault_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch, uid: str
) -> None:
    # OpenBao (like Vault Enterprise) has namespaces: a real one, with its own KV mount.
    namespace = f"team-{uid}"
    vault_env.api("POST", f"sys/namespaces/{namespace}", {})
    vault_env.api("POST", "sys/mounts/secret", {"type": "kv-v2"}, namespace=namespace)
    vault_env.kv_put("secret/ns-key", value="inside-the-namespace", namespace=namespace)

    configured = make_vault({"namespace": namespace})
    assert f"namespace '{namespace}'" in configured.describe()
    assert configured.fetch("ns-key").reveal() == "inside-the-namespace"
    configured.store("written-in-ns", Secret("w"))
    assert vault_env.api("GET", "secret/data/written-in-ns", namespace=namespace)["data"][
        "data"
    ] == {"value": "w"}

    monkeypatch.setenv("VAULT_NAMESPACE", namespace)
    assert make_vault().fetch("ns-key").reveal() == "inside-the-namespace"

    monkeypatch.delenv("VAULT_NAMESPACE")
    with pytest.raises(NotFoundError):
        make_vault().fetch("ns-key")  # the root namespace has no such secret
