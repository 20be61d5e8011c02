"""TLS as the Vault CLI configures it, against OpenBao serving HTTPS (``-dev-tls``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from envdrift import ConfigError, VaultError
from envdrift_hashicorp import HashicorpVault

from tests.servers.openbao import OpenBao, openbao_server

MakeVault = Callable[..., HashicorpVault]


@pytest.fixture(scope="module")
def tls_openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    with openbao_server(tmp_path_factory.mktemp("openbao-tls"), tls=True) as server:
        server.kv_put("secret/tls-key", value="over-tls")
        yield server


@pytest.fixture
def tls_env(tls_openbao: OpenBao, monkeypatch: pytest.MonkeyPatch) -> OpenBao:
    monkeypatch.setenv("VAULT_ADDR", tls_openbao.address)
    monkeypatch.setenv("VAULT_TOKEN", tls_openbao.root_token)
    return tls_openbao


def test_vault_cacert(
    tls_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_env.ca_cert is not None
    monkeypatch.setenv("VAULT_CACERT", str(tls_env.ca_cert))
    assert make_vault().fetch("tls-key").reveal() == "over-tls"


def test_requests_ca_bundle_still_applies_without_a_vault_setting(
    tls_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What every requests user can rely on; the environment is read once, not per request.
    assert tls_env.ca_cert is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_env.ca_cert))
    assert make_vault().fetch("tls-key").reveal() == "over-tls"


def test_vault_capath_reads_every_pem_file(
    tls_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert tls_env.ca_cert is not None
    cas = tmp_path / "cas"
    cas.mkdir()
    shutil.copy(tls_env.ca_cert, cas / "team-ca.pem")  # no c_rehash'ed name needed
    monkeypatch.setenv("VAULT_CAPATH", str(cas))
    assert make_vault().fetch("tls-key").reveal() == "over-tls"


def test_vault_cacert_wins_over_vault_capath(
    tls_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert tls_env.ca_cert is not None
    monkeypatch.setenv("VAULT_CACERT", str(tls_env.ca_cert))
    monkeypatch.setenv("VAULT_CAPATH", str(tmp_path))  # empty: would trust nothing
    assert make_vault().fetch("tls-key").reveal() == "over-tls"


def test_vault_capath_with_a_file_that_is_not_pem_is_a_config_error(
    tls_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "README").write_text("not a certificate\n")
    monkeypatch.setenv("VAULT_CAPATH", str(tmp_path))
    with pytest.raises(ConfigError, match="README is not a PEM certificate"):
        make_vault().fetch("tls-key")


@pytest.mark.parametrize("value", ["true", "1", "T"])
def test_vault_skip_verify(
    tls_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("VAULT_SKIP_VERIFY", value)
    assert make_vault().fetch("tls-key").reveal() == "over-tls"


def test_an_untrusted_certificate_says_how_to_trust_it(
    tls_env: OpenBao, make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "false")
    with pytest.raises(VaultError) as info:
        make_vault().fetch("tls-key")
    message = str(info.value)
    assert f"TLS with Vault at {tls_env.address} (from VAULT_ADDR) failed" in message
    assert "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message
    assert "VAULT_CACERT" in message


def test_an_invalid_vault_skip_verify_is_refused_like_the_vault_cli_does(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "yes please")
    with pytest.raises(ConfigError, match="VAULT_SKIP_VERIFY='yes please' is not a boolean"):
        make_vault()


def test_a_missing_vault_cacert_file_is_a_config_error(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VAULT_CACERT", str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match=r"VAULT_CACERT=.*no such file"):
        make_vault()
