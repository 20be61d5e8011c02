"""``envdrift sync`` end to end against AWS Secrets Manager (a real moto_server).

A small monorepo, secrets written the ways teams write them today: with
``aws secretsmanager create-secret --secret-string "<hex>"`` (a bare key) and with the
existing envdrift's ``vault-push`` (a ``DOTENV_PRIVATE_KEY_<ENV>=<hex>`` line). The CLI
runs as users run it, finding the vault through the installed ``aws`` entry point and
boto3's ordinary settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.aws.conftest import use_keys
from tests.helpers import assert_no_private_key, sync_rows
from tests.servers.proxy import TcpProxy


def make_key(seed: str) -> str:
    """A valid dotenvx private key (64 hex digits inside the curve order)."""
    return hashlib.sha256(seed.encode()).hexdigest()


APP_KEY, AUTH_KEY, API_KEY, NEW_KEY = (make_key(s) for s in ("app", "auth", "api", "new"))


@dataclass
class Monorepo:
    """A scratch project with ``envdrift.toml`` at its root and one folder per service."""

    root: Path
    aws_table: dict[str, str] = field(default_factory=dict)
    mappings: list[dict[str, str]] = field(default_factory=list)

    def map(self, secret: str, folder: str, **extra: str) -> Path:
        (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.mappings.append({"secret_name": secret, "folder_path": folder, **extra})
        return self.root / folder

    def write(self) -> None:
        lines = ["[vault]", 'provider = "aws"', "", "[vault.aws]"]
        lines += [f'{key} = "{value}"' for key, value in self.aws_table.items()]
        for mapping in self.mappings:
            lines += ["", "[[vault.sync.mappings]]"]
            lines += [f'{key} = "{value}"' for key, value in mapping.items()]
        (self.root / "envdrift.toml").write_text("\n".join(lines) + "\n")

    def keys(self, folder: str) -> str:
        return (self.root / folder / ".env.keys").read_text()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Monorepo:
    root = tmp_path / "monorepo"
    root.mkdir()
    monkeypatch.chdir(root)
    return Monorepo(root)


@pytest.fixture
def sync(envdrift_cli: Callable[..., Result]) -> Callable[..., Result]:
    return lambda *args: envdrift_cli("sync", *args)


@pytest.fixture
def three_services(repo: Monorepo, sm: Any) -> Monorepo:
    # `aws secretsmanager create-secret --name app-dotenvx-key --secret-string "<hex>"`
    sm.create_secret(Name="app-dotenvx-key", SecretString=APP_KEY)
    # envdrift 1.x `vault-push`: the whole .env.keys line
    sm.create_secret(Name="auth-dotenvx-key", SecretString=f"DOTENV_PRIVATE_KEY_STAGING={AUTH_KEY}")
    sm.create_secret(
        Name="api-dotenvx-key", SecretString=f"DOTENV_PRIVATE_KEY_PRODUCTION={API_KEY}"
    )
    repo.map("app-dotenvx-key", "services/app")
    repo.map("auth-dotenvx-key", "services/auth", environment="staging")
    api = repo.map("api-dotenvx-key", "services/api")
    # A keys file that already holds another environment's key: it must survive.
    (api / ".env.keys").write_text(f"DOTENV_PRIVATE_KEY_DEVELOPMENT={make_key('dev')}\n")
    repo.write()
    return repo


def test_sync_fills_every_service_then_stays_in_sync(
    three_services: Monorepo, sync: Callable[..., Result]
) -> None:
    first = sync()
    assert first.exit_code == 0, first.output
    assert [row[:4] for row in sync_rows(first)] == [
        ["services/app", "app-dotenvx-key", "production", "created"],
        ["services/auth", "auth-dotenvx-key", "staging", "created"],
        ["services/api", "api-dotenvx-key", "production", "created"],
    ]
    repo = three_services
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={APP_KEY}" in repo.keys("services/app")
    assert f"DOTENV_PRIVATE_KEY_STAGING={AUTH_KEY}" in repo.keys("services/auth")
    api_keys = repo.keys("services/api")
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={API_KEY}" in api_keys
    assert f"DOTENV_PRIVATE_KEY_DEVELOPMENT={make_key('dev')}" in api_keys
    for folder in ("services/app", "services/auth", "services/api"):
        assert stat.S_IMODE((repo.root / folder / ".env.keys").stat().st_mode) == 0o600

    again = sync()
    assert again.exit_code == 0
    assert [row[3] for row in sync_rows(again)] == ["unchanged"] * 3
    verify = sync("--verify")
    assert verify.exit_code == 0
    assert verify.stdout.splitlines()[-1].startswith("3 mappings: 3 unchanged; no drift")


def test_rotated_key_is_drift_until_forced(
    three_services: Monorepo, sync: Callable[..., Result], sm: Any
) -> None:
    assert sync().exit_code == 0
    # Key rotation, as the guide does it: a new version of the same secret.
    sm.put_secret_value(SecretId="app-dotenvx-key", SecretString=NEW_KEY)

    verify = sync("--verify")
    assert verify.exit_code == 1
    assert sync_rows(verify)[0][3] == "drift"
    ci = sync("--ci")
    assert ci.exit_code == 1
    assert "envdrift sync --force" in sync_rows(ci)[0][4]
    assert f"={APP_KEY}" in three_services.keys("services/app")

    forced = sync("--force")
    assert forced.exit_code == 0, forced.output
    assert [row[3] for row in sync_rows(forced)] == ["updated", "unchanged", "unchanged"]
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={NEW_KEY}" in three_services.keys("services/app")
    backups = list((three_services.root / "services/app").glob(".env.keys.backup.*"))
    assert len(backups) == 1
    assert APP_KEY in backups[0].read_text()
    # AWS keeps the old key reachable too.
    previous = sm.get_secret_value(SecretId="app-dotenvx-key", VersionStage="AWSPREVIOUS")
    assert previous["SecretString"] == APP_KEY


def test_a_missing_secret_fails_only_its_mapping(
    three_services: Monorepo, sync: Callable[..., Result], sm: Any
) -> None:
    sm.delete_secret(SecretId="auth-dotenvx-key", ForceDeleteWithoutRecovery=True)
    result = sync()
    assert result.exit_code == 1
    table = sync_rows(result)
    assert [row[3] for row in table] == ["created", "error", "created"]
    assert table[1][4] == (
        "secret 'auth-dotenvx-key' not found in vault 'aws' (region us-east-1); see which "
        "secrets exist there with: aws secretsmanager list-secrets --region us-east-1"
    )
    assert not (three_services.root / "services/auth/.env.keys").exists()
    verify = sync("--verify")
    assert verify.exit_code == 1
    assert sync_rows(verify)[1][3] == "error"  # nothing to compare: not drift


def test_the_user_guides_iam_policy_is_enough(
    three_services: Monorepo,
    sync: Callable[..., Result],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GetSecretValue + ListSecrets only: BatchGetSecretValue is refused, single reads work.
    use_keys(monkeypatch, iam_user("ci", "GetSecretValue", "ListSecrets"))
    enforce()
    result = sync("--ci")
    assert result.exit_code == 0, result.output
    assert [row[3] for row in sync_rows(result)] == ["created"] * 3


def test_an_identity_that_may_not_read_gets_the_action_named(
    three_services: Monorepo,
    sync: Callable[..., Result],
    iam_user: Callable[..., tuple[str, str]],
    enforce: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_keys(monkeypatch, iam_user("lister", "ListSecrets"))
    enforce()
    result = sync("--ci")
    assert result.exit_code == 1
    for row, secret in zip(sync_rows(result), ["app", "auth", "api"], strict=True):
        assert row[3] == "error"
        assert f"refused secretsmanager:GetSecretValue on secret '{secret}-dotenvx-key'" in row[4]


def test_no_credentials_is_one_clear_reason_per_mapping(
    three_services: Monorepo, sync: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = sync()
    assert result.exit_code == 1
    for row in sync_rows(result):
        assert row[4].startswith("no AWS credentials found for vault 'aws' (region us-east-1)")
        assert "AWS_ACCESS_KEY_ID" in row[4]
        assert "Traceback" not in result.output


def test_region_from_flag_config_and_environment(
    repo: Monorepo, sync: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    for region, key in (("eu-west-1", APP_KEY), ("ap-southeast-2", AUTH_KEY)):
        regional = boto3.Session().client("secretsmanager", region_name=region)
        regional.create_secret(Name="regional-dotenvx-key", SecretString=key)
    repo.map("regional-dotenvx-key", "svc")
    repo.aws_table["region"] = "eu-west-1"
    repo.write()
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")

    assert sync("--verify").exit_code == 1  # config wins over AWS_REGION: eu-west-1
    assert sync().exit_code == 0
    assert f"={APP_KEY}" in repo.keys("svc")
    flagged = sync("--region", "ap-southeast-2", "--force")  # the flag wins over the file
    assert flagged.exit_code == 0, flagged.output
    assert f"={AUTH_KEY}" in repo.keys("svc")
    repo.aws_table.clear()
    repo.write()
    assert sync("--verify").exit_code == 0  # no region in the file: AWS_REGION


def test_legacy_pair_txt_with_a_path_like_secret_name(
    repo: Monorepo, sync: Callable[..., Result], sm: Any
) -> None:
    sm.create_secret(Name="team/app-dotenvx-key", SecretString=APP_KEY)
    (repo.root / "services/app").mkdir(parents=True)
    (repo.root / "pair.txt").write_text("# legacy\nteam/app-dotenvx-key=services/app\n")
    result = sync("-c", "pair.txt", "-p", "aws")
    assert result.exit_code == 0, result.output
    assert sync_rows(result)[0][:4] == [
        "services/app",
        "team/app-dotenvx-key",
        "production",
        "created",
    ]
    assert f"={APP_KEY}" in repo.keys("services/app")


def test_json_report_names_the_vault_and_hides_values(
    three_services: Monorepo, sync: Callable[..., Result]
) -> None:
    result = sync("--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["provider"] == "aws"
    assert document["summary"]["created"] == 3
    assert all(m["vault_value"].startswith("<redacted len=64") for m in document["mappings"])


def test_many_mappings_take_a_few_batch_calls(
    repo: Monorepo,
    sync: Callable[..., Result],
    sm: Any,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(45):
        sm.create_secret(Name=f"svc{i:02d}-dotenvx-key", SecretString=make_key(str(i)))
        repo.map(f"svc{i:02d}-dotenvx-key", f"services/svc{i:02d}")
    repo.write()
    port = int(moto_endpoint.rsplit(":", 1)[1])
    with TcpProxy("127.0.0.1", port) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{proxy.port}")
        result = sync()
    assert result.exit_code == 0, result.output
    assert proxy.stats.requests == 3  # BatchGetSecretValue: 20 + 20 + 5
    assert f"={make_key('44')}" in repo.keys("services/svc44")


def test_the_installed_command_syncs(three_services: Monorepo) -> None:
    """The real console script in a real process: entry points, env and exit code."""
    envdrift = Path(sys.executable).with_name("envdrift")
    done = subprocess.run(
        [str(envdrift), "sync", "--ci"],
        cwd=three_services.root,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert_no_private_key(done.stdout + done.stderr)
    assert f"={APP_KEY}" in three_services.keys("services/app")


def test_debug_output_shows_no_key(
    three_services: Monorepo, envdrift_cli: Callable[..., Result], sm: Any
) -> None:
    # envdrift_cli fails the test on anything shaped like a private key in stdout or stderr.
    sm.put_secret_value(SecretId="app-dotenvx-key", SecretString="not a key at all")
    result = envdrift_cli("--debug", "sync")
    assert result.exit_code == 1
    reason = sync_rows(result)[0][4]
    assert reason.startswith("secret 'app-dotenvx-key' in vault 'aws' (region us-east-1)")
    assert "not a key at all" not in result.output
