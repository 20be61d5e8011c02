"""``envdrift sync`` on the command line: output, exit codes, JSON, flags, prompts."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from envdrift.dotenvx.crypto import public_key_of
from envdrift.secrets import Secret
from envdrift.sync import Outcome

from tests.core.sync_helpers import (
    KEY_A,
    KEY_B,
    FakeVerifier,
    LatencyPlugin,
    Project,
    fake_public_key,
    keys_line,
    registry_with,
)
from tests.helpers import assert_no_private_key, sync_rows

REDACTED = re.compile(r"<redacted len=64 sha=[0-9a-f]{8}>")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.chdir(root)
    return Project(root)


@pytest.fixture
def sync(envdrift_cli: Callable[..., Result]) -> Callable[..., Result]:
    """Run ``envdrift sync ARGS`` with a fresh registry that has the test plugins."""

    def run(*args: str, plugins: tuple[object, ...] = ()) -> Result:
        registry = registry_with(LatencyPlugin(), *plugins)
        return envdrift_cli("sync", *args, registry=registry)

    return run


def two_services(project: Project) -> None:
    project.secret("app-key", KEY_A)
    project.secret("auth-key", f"DOTENV_PRIVATE_KEY_STAGING={KEY_B}")
    project.service("services/app")
    project.service("services/auth")
    project.map("app-key", "services/app")
    project.map("auth-key", "services/auth", environment="staging")
    project.write_config()


def test_sync_then_rerun(project: Project, sync: Callable[..., Result]) -> None:
    two_services(project)
    first = sync()
    assert first.exit_code == 0, first.output
    assert sync_rows(first) == [
        ["services/app", "app-key", "production", "created"],
        ["services/auth", "auth-key", "staging", "created"],
    ]
    assert re.fullmatch(r"2 mappings: 2 created \(\d+\.\d\d s\)", first.stdout.splitlines()[-1])
    assert first.stderr == ""
    again = sync()
    assert again.exit_code == 0
    assert [row[3] for row in sync_rows(again)] == ["unchanged", "unchanged"]
    assert "2 mappings: 2 unchanged" in again.stdout


def test_works_from_a_subdirectory(
    project: Project, sync: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    two_services(project)
    monkeypatch.chdir(project.root / "services" / "auth")
    result = sync()
    assert result.exit_code == 0, result.output
    assert (project.root / "services/app/.env.keys").exists()


def test_any_error_exits_1_and_the_rest_completes(
    project: Project, sync: Callable[..., Result]
) -> None:
    two_services(project)
    project.map("missing-secret", "services/app", environment="ci")
    project.write_config()
    result = sync()
    assert result.exit_code == 1
    assert [row[3] for row in sync_rows(result)] == ["created", "created", "error"]
    assert "secret 'missing-secret' not found" in sync_rows(result)[2][4]
    assert "3 mappings: 2 created, 1 error" in result.stdout
    assert (project.root / "services/auth/.env.keys").exists()


def test_a_mismatch_shows_each_keys_public_key_prefix_the_same_every_run(
    project: Project, sync: Callable[..., Result]
) -> None:
    project.secret("k", KEY_A)
    project.service("app", keys=keys_line("production", KEY_B))
    project.map("k", "app")
    project.write_config()
    first, second = sync(), sync()
    assert first.exit_code == second.exit_code == 1
    reason = sync_rows(first)[0][4]
    assert "run `envdrift sync --force`" in reason
    local, vault = (public_key_of(Secret(key))[:12] for key in (KEY_B, KEY_A))
    # The prefix of the public key each teammate's committed file names: stable across
    # runs (and machines), never the private key or a salted hash of it.
    assert f"local key {local}…, vault key {vault}…" in reason
    assert sync_rows(second)[0][4] == reason
    assert not REDACTED.search(first.stdout)
    assert_no_private_key(first.stdout + first.stderr)


def test_force_and_verify(project: Project, sync: Callable[..., Result]) -> None:
    project.secret("k", KEY_A)
    app = project.service("app", keys=keys_line("production", KEY_B))
    project.map("k", "app")
    project.write_config()
    verify = sync("--verify")
    assert verify.exit_code == 1
    assert sync_rows(verify)[0][3] == "drift"
    assert "drift found" in verify.stdout
    assert sync("--verify", "--force").exit_code == 2
    forced = sync("--force")
    assert forced.exit_code == 0
    assert sync_rows(forced)[0][3] == "updated"
    assert "backup .env.keys.backup." in sync_rows(forced)[0][4]
    assert keys_line("production", KEY_A) in (app / ".env.keys").read_text()
    clean = sync("--verify")
    assert (clean.exit_code, sync_rows(clean)[0][3]) == (0, "unchanged")
    assert "no drift" in clean.stdout


def test_check_decryption_in_the_table(project: Project, sync: Callable[..., Result]) -> None:
    project.secret("k", KEY_A)
    app = project.service("app")
    (app / ".env.production").write_text(
        f'DOTENV_PUBLIC_KEY_PRODUCTION="{fake_public_key(KEY_A)}"\nA="encrypted:x"\n'
    )
    project.map("k", "app")
    project.write_config()
    result = sync("--check-decryption", plugins=(FakeVerifier(),))
    assert result.exit_code == 0, result.output
    assert sync_rows(result)[0][4] == "decrypts .env.production (1 values)"


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        ((), None, "Error: no configuration found in"),
        ((), "[vault\n", "Error: envdrift.toml: invalid TOML: "),
        (("--region", "eu-west-1"), "", "Error: --region does not apply to vault 'slow'"),
        (("-p", "nope"), "", "Error: unknown vault 'nope'."),
        (("--profile", "x"), "", "Error: no mapping in envdrift.toml has profile 'x'"),
        (("-c", "other.toml"), "", "Error: config file other.toml does not exist"),
        (("--jobs", "0"), "", "Invalid value for '-j' / '--jobs'"),
    ],
)
def test_configuration_and_usage_errors_exit_2(
    project: Project,
    sync: Callable[..., Result],
    args: tuple[str, ...],
    config: str | None,
    expected: str,
) -> None:
    if config is not None:
        project.map("k", ".")
        project.write_config()
        if config:
            (project.root / "envdrift.toml").write_text(config)
    result = sync(*args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_warnings_go_to_stderr(project: Project, sync: Callable[..., Result]) -> None:
    project.secret("k", KEY_A)
    project.service("app")
    project.map("k", "app", enviroment="x")
    project.write_config()
    result = sync()
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: envdrift.toml: unknown key vault.sync.mappings[1].enviroment is ignored. "
        "Did you mean 'environment'?\n"
    )
    assert "Warning" not in result.stdout


def test_pair_txt_with_provider_flags(project: Project, sync: Callable[..., Result]) -> None:
    project.secret("app-key", KEY_A, vault_name="team")
    project.service("services/app")
    (project.root / "pair.txt").write_text("# legacy\nteam/app-key = services/app\n")
    assert sync("-c", "pair.txt").exit_code == 2  # no provider in a pair.txt
    result = sync("-c", "pair.txt", "-p", "slow", "--vault-url", "secrets", "-j", "2")
    assert result.exit_code == 0, result.output
    assert sync_rows(result) == [["services/app", "app-key", "production", "created"]]


# -- JSON ------------------------------------------------------------------------------


def test_json_document(project: Project, sync: Callable[..., Result]) -> None:
    two_services(project)
    project.service("services/app", keys=keys_line("production", KEY_B))
    project.map("k", "services/app", enviroment="x", environment="ci")
    project.write_config()
    result = sync("--format", "json", "--force")
    assert result.exit_code == 1
    assert result.stderr.startswith("Warning: ")
    document = json.loads(result.stdout)  # stdout is exactly one JSON document
    assert list(document) == [
        "version",
        "command",
        "config",
        "provider",
        "profile",
        "mode",
        "mappings",
        "summary",
        "warnings",
        "error",
        "exit_code",
    ]
    assert document["version"] == 1
    assert document["config"] == "envdrift.toml"
    assert document["provider"] == "slow"
    assert document["mode"] == {
        "verify": False,
        "force": True,
        "ci": False,
        "check_decryption": False,
        "jobs": 32,
    }
    assert document["summary"] == {
        "total": 3,
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "skipped": 0,
        "ephemeral": 0,
        "drift": 0,
        "error": 1,
        "decryption_failed": 0,
    }
    assert document["exit_code"] == 1
    app, auth, missing = document["mappings"]
    assert app["outcome"] == "updated"
    assert app["backup"].startswith("services/app/.env.keys.backup.")
    assert REDACTED.fullmatch(app["vault_value"])
    assert REDACTED.fullmatch(app["local_value"])
    assert app["vault_value"] != app["local_value"]
    assert app["vault_public_key"] == public_key_of(Secret(KEY_A))[:12]
    assert app["local_public_key"] != app["vault_public_key"]
    assert auth == {
        "index": 2,
        "folder": "services/auth",
        "keys_file": "services/auth/.env.keys",
        "secret": "auth-key",
        "vault_name": None,
        "environment": "staging",
        "key_name": "DOTENV_PRIVATE_KEY_STAGING",
        "profile": None,
        "outcome": "created",
        "ok": True,
        "reason": "",
        "drift": None,
        "backup": None,
        "vault_value": auth["vault_value"],
        "local_value": None,
        "vault_public_key": public_key_of(Secret(KEY_B))[:12],
        "local_public_key": None,
        "decryption": None,
    }
    assert (missing["outcome"], missing["ok"]) == ("error", False)
    assert len(document["warnings"]) == 1


def documented_fields(section: str) -> list[str]:
    """The field names in the first column of a table under ``## section`` (or ###)."""
    text = (Path(__file__).parents[2] / "docs" / "sync-json.md").read_text()
    body = re.split(rf"^#+ {re.escape(section)}\n", text, flags=re.MULTILINE)[1]
    table = body.split("\n#")[0]
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


def test_the_json_document_is_documented_field_by_field(
    project: Project, sync: Callable[..., Result]
) -> None:
    project.secret("k", KEY_A)
    project.service("app")
    project.map("k", "app")
    project.write_config()
    document = json.loads(sync("--format", "json").stdout)
    assert documented_fields("Top-level fields") == list(document)
    assert documented_fields("Mapping fields") == list(document["mappings"][0])
    assert documented_fields("Outcomes") == [str(outcome) for outcome in Outcome]


def test_the_decryption_object_is_documented(project: Project, sync: Callable[..., Result]) -> None:
    project.secret("k", KEY_A)
    app = project.service("app")
    (app / ".env.production").write_text(
        f'DOTENV_PUBLIC_KEY_PRODUCTION="{fake_public_key(KEY_B)}"\nA="encrypted:x"\n'
    )
    project.map("k", "app")
    project.write_config()
    result = sync("--format", "json", "--check-decryption", plugins=(FakeVerifier(),))
    assert result.exit_code == 1
    decryption = json.loads(result.stdout)["mappings"][0]["decryption"]
    text = (Path(__file__).parents[2] / "docs" / "sync-json.md").read_text()
    example = json.loads(text.split("### `decryption`")[1].split("```json")[1].split("```")[0])
    assert list(decryption) == list(example)
    assert list(decryption["files"][0]) == list(example["files"][0])
    assert decryption["files"][0]["failed"] == ["A"]
    assert decryption["files"][0]["path"] == "app/.env.production"


def test_json_on_a_configuration_error(project: Project, sync: Callable[..., Result]) -> None:
    (project.root / "envdrift.toml").write_text("[vault]\nprovider = 3\n")
    result = sync("--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["error"] == "envdrift.toml: vault.provider: expected a string, got an integer"
    assert (document["exit_code"], document["mappings"], document["summary"]) == (2, [], None)
    assert result.stderr.startswith("Error: envdrift.toml: vault.provider")


# -- interactive -----------------------------------------------------------------------


#: ``python -c`` program: the real CLI with a registry that has a slow vault (0.3 s a call).
SLOW_CLI = """
import sys
from envdrift.cli import cli
from tests.core.sync_helpers import LatencyPlugin, registry_with
registry = registry_with(LatencyPlugin(latency=0.3))
cli.main(sys.argv[1:], prog_name="envdrift", obj={"registry": registry})
"""


def run_on_a_terminal(
    cwd: Path, args: list[str], answer: bytes, *, program: list[str] | None = None
) -> tuple[int, str]:
    """Run ``envdrift ARGS`` with a pseudo-terminal as stdin, stdout and stderr."""
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOTENV_PRIVATE_KEY")}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])  # for SLOW_CLI's test plugin
    process = subprocess.Popen(
        [*(program or [sys.executable, "-m", "envdrift"]), *args],
        cwd=cwd,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    output = b""
    answered = False
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                if not answered and b"[y/N]" in output:
                    os.write(leader, answer)
                    answered = True
            elif process.poll() is not None:
                break
        code = process.wait(timeout=10)
    finally:
        os.close(leader)
        if process.poll() is None:  # pragma: no cover - only when the test fails
            process.kill()
    return code, output.decode("utf-8", "replace")


def files_project(project: Project) -> Path:
    """A project on the built-in `files` vault, so a subprocess finds it by entry point."""
    project.provider = "files"
    project.secret("k", KEY_A)
    app = project.service("app", keys=keys_line("production", KEY_B))
    project.map("k", "app")
    project.write_config()
    return app


@pytest.mark.parametrize(("answer", "outcome"), [(b"y\n", "updated"), (b"n\n", "skipped")])
def test_a_terminal_is_asked_before_overwriting(
    project: Project, answer: bytes, outcome: str
) -> None:
    app = files_project(project)
    code, output = run_on_a_terminal(project.root, ["sync"], answer)
    assert_no_private_key(output)
    assert "app: DOTENV_PRIVATE_KEY_PRODUCTION in" in output
    assert "Overwrite it with the vault's key (a backup is kept)? [y/N]" in output
    local, vault = (public_key_of(Secret(key))[:12] for key in (KEY_B, KEY_A))
    assert f"(local key {local}…, vault key {vault}…)" in output.split("[y/N]")[0]
    assert code == 0
    assert f" {outcome} " in output
    expected = KEY_A if outcome == "updated" else KEY_B
    assert (app / ".env.keys").read_text() == keys_line("production", expected)


def test_ci_on_a_terminal_does_not_ask(project: Project) -> None:
    app = files_project(project)
    code, output = run_on_a_terminal(project.root, ["sync", "--ci"], b"y\n")
    assert "[y/N]" not in output
    assert code == 1
    assert (app / ".env.keys").read_text() == keys_line("production", KEY_B)


def test_a_slow_run_shows_progress_on_a_terminal(project: Project) -> None:
    for index in range(3):
        project.secret(f"k{index}", KEY_A)
        project.service(f"s{index}")
        project.map(f"k{index}", f"s{index}")
    project.write_config()
    program = [sys.executable, "-c", SLOW_CLI]
    code, output = run_on_a_terminal(project.root, ["sync", "-j", "1"], b"", program=program)
    assert code == 0, output
    assert re.search(r"\r\x1b\[2Kenvdrift sync: fetching 0/3 \(\d\.\d s\)", output)
    assert output[: output.index("FOLDER")].endswith("\r\x1b[2K")  # cleared before the table


def test_without_a_terminal_there_is_no_progress(project: Project) -> None:
    for index in range(3):  # as slow as the terminal case above
        project.secret(f"k{index}", KEY_A)
        project.service(f"s{index}")
        project.map(f"k{index}", f"s{index}")
    project.write_config()
    result = subprocess.run(
        [sys.executable, "-c", SLOW_CLI, "sync", "-j", "1"],
        cwd=project.root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "3 mappings: 3 created" in result.stdout


def test_without_a_terminal_a_mismatch_is_an_error_not_a_hang(
    project: Project, sync: Callable[..., Result]
) -> None:
    files_project(project)
    result = sync()
    assert result.exit_code == 1
    assert "[y/N]" not in result.output
