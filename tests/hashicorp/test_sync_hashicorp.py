"""``envdrift sync`` end to end against OpenBao, the user guide's HashiCorp workflow.

A small monorepo; the keys are put in the vault with the guide's own command
(``vault kv put secret/… value="$(cat … | grep … | cut -d'=' -f2)"``, run by OpenBao's CLI
under the name ``vault``); then a fresh checkout runs ``envdrift sync``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from envdrift.dotenvx.keysfile import KEYS_HEADER

from tests.helpers import assert_no_private_key, sync_rows
from tests.servers import free_port
from tests.servers.openbao import OpenBao, bao_binary


def make_key(seed: str) -> str:
    """A valid dotenvx private key (64 lower-case hex below the curve order)."""
    return hashlib.sha256(seed.encode()).hexdigest()


def guide_put(server: OpenBao, laptop: Path, entries: list[tuple[str, str, str, str]]) -> None:
    """A teammate's laptop: ``.env.keys`` as dotenvx writes them, then the guide's command.

    ``entries`` are ``(secret, folder, environment, key)``; one shell runs every command.
    """
    bin_dir = laptop / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    if not (bin_dir / "vault").exists():
        (bin_dir / "vault").symlink_to(bao_binary())
    commands = []
    for secret, folder, environment, key in entries:
        keys = laptop / folder / ".env.keys"
        keys.parent.mkdir(parents=True, exist_ok=True)
        name = f"DOTENV_PRIVATE_KEY_{environment.upper()}"
        keys.write_text(f"{KEYS_HEADER}\n# .env.{environment}\n{name}={key}\n")
        commands.append(
            f"vault kv put secret/{secret} \\\n"
            f"  value=\"$(cat {folder}/.env.keys | grep {name} | cut -d'=' -f2)\""
        )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VAULT_")},
        **server.env(),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    script = "set -e\n" + "\n".join(commands)
    subprocess.run(["bash", "-c", script], cwd=laptop, env=env, check=True, capture_output=True)


@dataclass(frozen=True)
class Seeded:
    """The monorepo's mappings, their keys already in the vault (put the guide's way)."""

    uid: str
    mappings: list[tuple[str, str, str]]  # (secret_name, folder_path, environment)
    keys: dict[str, str]  # folder -> key


@pytest.fixture(scope="module")
def seeded(openbao: OpenBao, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    uid = uuid.uuid4().hex[:10]
    # Nested paths and several environments, as teams lay them out.
    mappings = [
        (f"{uid}/myapp-dotenvx-key", "services/myapp", "production"),
        (f"{uid}/auth-service-dotenvx-key", "services/auth", "staging"),
        (f"apps/{uid}/api/prod-key", "services/api", "production"),
    ]
    keys = {folder: make_key(secret) for secret, folder, _ in mappings}
    entries = [(s, f, e, keys[f]) for s, f, e in mappings]
    guide_put(openbao, tmp_path_factory.mktemp("laptop"), entries)
    return Seeded(uid, mappings, keys)


class Monorepo:
    """A fresh checkout of the monorepo: its folders and its envdrift.toml."""

    def __init__(self, root: Path, server: OpenBao, seeded: Seeded) -> None:
        self.root = root
        self.server = server
        self.uid = seeded.uid
        self.mappings = list(seeded.mappings)
        for _, folder, _ in self.mappings:
            (root / folder).mkdir(parents=True, exist_ok=True)
        self.write_config()

    def write_config(
        self, extra: str = "", mappings: list[tuple[str, str, str]] | None = None
    ) -> Path:
        lines = ['[vault]\nprovider = "hashicorp"\n', f"[vault.hashicorp]\n{extra}"]
        for secret, folder, environment in mappings or self.mappings:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            lines.append(
                f'[[vault.sync.mappings]]\nsecret_name = "{secret}"\nfolder_path = "{folder}"\n'
                f'environment = "{environment}"\n'
            )
        path = self.root / "envdrift.toml"
        path.write_text("\n".join(lines))
        return path

    def keys(self, folder: str) -> str:
        return (self.root / folder / ".env.keys").read_text()


@pytest.fixture
def repo(
    vault_env: OpenBao, seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Monorepo:
    root = tmp_path / "checkout"
    root.mkdir()
    monkeypatch.chdir(root)
    return Monorepo(root, vault_env, seeded)


@pytest.fixture
def keys(seeded: Seeded) -> dict[str, str]:
    return seeded.keys


def rows(result: Result) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in sync_rows(result)}


def test_fresh_checkout_gets_every_key(
    repo: Monorepo, keys: dict[str, str], envdrift_cli: Callable[..., Result]
) -> None:
    result = envdrift_cli("sync")
    assert result.exit_code == 0, result.output
    table = rows(result)
    assert {folder: row[2] for folder, row in table.items()} == dict.fromkeys(keys, "created")
    for secret, folder, environment in repo.mappings:
        assert table[folder][:2] == [secret, environment]
        name = f"DOTENV_PRIVATE_KEY_{environment.upper()}"
        assert f"{name}={keys[folder]}\n" in repo.keys(folder)
    again = envdrift_cli("sync", "-c", "envdrift.toml")
    assert again.exit_code == 0
    assert {row[2] for row in rows(again).values()} == {"unchanged"}


def test_rotation_in_the_vault_is_drift_until_sync_force(
    repo: Monorepo, envdrift_cli: Callable[..., Result], tmp_path: Path
) -> None:
    secret, folder = f"{repo.uid}/rotating-{uuid.uuid4().hex[:6]}", "services/rotating"
    old, rotated = make_key(secret), make_key("rotated")
    repo.server.kv_put(f"secret/{secret}", value=old)
    repo.write_config(mappings=[(secret, folder, "production")])
    assert envdrift_cli("sync").exit_code == 0
    guide_put(repo.server, tmp_path / "laptop", [(secret, folder, "production", rotated)])

    verify = envdrift_cli("sync", "--verify")
    assert verify.exit_code == 1
    assert rows(verify)[folder][2] != "unchanged"
    assert old in repo.keys(folder)

    ci = envdrift_cli("sync", "--ci")
    assert ci.exit_code == 1
    assert old in repo.keys(folder)

    forced = envdrift_cli("sync", "--force")
    assert forced.exit_code == 0, forced.output
    assert rows(forced)[folder][2] == "updated"
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={rotated}" in repo.keys(folder)
    assert old not in repo.keys(folder)


def test_vault_url_flag_wins_over_config_and_vault_addr(
    repo: Monorepo,
    keys: dict[str, str],
    envdrift_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("VAULT_ADDR", dead)
    repo.write_config(f'url = "{dead}"\n')
    failed = envdrift_cli("sync", "--retries", "0")
    assert failed.exit_code == 1
    assert f"cannot reach Vault at {dead} (from [vault.hashicorp] url)" in failed.stdout
    result = envdrift_cli("sync", "--vault-url", repo.server.address)
    assert result.exit_code == 0, result.output
    assert {row[2] for row in rows(result).values()} == {"created"}


def test_one_missing_secret_fails_only_its_mapping(
    repo: Monorepo, keys: dict[str, str], envdrift_cli: Callable[..., Result]
) -> None:
    missing = (f"{repo.uid}/not-yet-stored", "services/new", "production")
    repo.write_config(mappings=[*repo.mappings, missing])
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    table = rows(result)
    assert table["services/new"][2] == "error"
    assert f"vault kv list secret/{repo.uid}/" in result.stdout
    assert [table[folder][2] for folder in keys] == ["created"] * 3


def test_a_token_without_the_policy_is_told_which_stanza_to_add(
    repo: Monorepo,
    keys: dict[str, str],
    envdrift_cli: Callable[..., Result],
    reader_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", reader_token)
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    secret = repo.mappings[0][0]
    assert f"needs 'read' on secret/data/{secret}" in result.stdout
    assert reader_token not in result.output


def test_no_token_exits_1_naming_the_three_ways(
    repo: Monorepo,
    keys: dict[str, str],
    envdrift_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    assert "no Vault token found" in result.output
    assert "vault login" in result.output


def test_a_lone_dotenv_field_is_checked_against_the_mapping_environment(
    repo: Monorepo, envdrift_cli: Callable[..., Result]
) -> None:
    key = make_key("labelled")
    secret, folder = f"{repo.uid}/labelled-{uuid.uuid4().hex[:6]}", "services/labelled"
    repo.server.cli("kv", "put", f"secret/{secret}", f"DOTENV_PRIVATE_KEY_PRODUCTION={key}")
    production = repo.write_config(mappings=[(secret, folder, "production")])
    assert envdrift_cli("sync", "-c", str(production)).exit_code == 0
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={key}" in repo.keys(folder)

    repo.write_config(mappings=[(secret, folder, "staging")])
    wrong = envdrift_cli("sync")
    assert wrong.exit_code == 1
    assert rows(wrong)[folder][2] == "error"
    assert "DOTENV_PRIVATE_KEY_STAGING" not in repo.keys(folder)


def test_json_output_and_no_key_anywhere(
    repo: Monorepo, keys: dict[str, str], envdrift_cli: Callable[..., Result]
) -> None:
    result = envdrift_cli("sync", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["provider"] == "hashicorp"
    assert document["summary"]["total"] == 3
    assert {m["outcome"] for m in document["mappings"]} == {"created"}
    for key in keys.values():
        assert key not in result.output


def test_debug_names_the_auth_method_never_the_token(repo: Monorepo, keys: dict[str, str]) -> None:
    # A real process: --debug wires logging once, as a user's shell would see it.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VAULT_")},
        **repo.server.env(),
    }
    (Path(env["HOME"]) / ".vault-token").write_text(repo.server.root_token)
    del env["VAULT_TOKEN"]
    done = subprocess.run(
        [sys.executable, "-m", "envdrift", "--debug", "sync"],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "debug: envdrift.hashicorp: Vault address" in done.stderr
    assert "authenticating with the token in ~/.vault-token" in done.stderr
    assert repo.server.root_token not in done.stderr + done.stdout
    assert_no_private_key(done.stdout + done.stderr)
