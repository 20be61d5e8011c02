"""The ``command`` vault through the envdrift CLI: sync, vault-push, rotate, errors, limits.

The "secret manager" is the small script of ``command_helpers``; ``test_command_e2e.py``
drives the real CLIs the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.core.command_helpers import (
    assert_hanging_fetch_stopped,
    install_fake_cli,
    runs,
    write_config,
)
from tests.core.sync_helpers import KEY_A, KEY_B, keys_line
from tests.helpers import sync_errors, sync_rows


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    install_fake_cli(root)
    monkeypatch.chdir(root)
    return root


def put(root: Path, name: str, value: str) -> None:
    path = root / "store" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)


GET = ["./fake-cli", "get", "{environment}/{secret}"]
PUT = ["./fake-cli", "put", "{environment}/{secret}"]


def test_sync_ci_writes_every_key_per_environment(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    # As CLIs print them: a trailing newline, a labelled line. Normalised like any vault's.
    put(root, "production/app-key", KEY_A + "\n")
    put(root, "staging/app-key", f"DOTENV_PRIVATE_KEY_STAGING={KEY_B}\n")
    write_config(
        root,
        GET,
        mappings=[
            ("app-key", "services/app", "production"),
            ("app-key", "services/app-staging", "staging"),
        ],
    )
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 0, result.output
    assert sync_rows(result) == [
        ["services/app", "app-key", "production", "created"],
        ["services/app-staging", "app-key", "staging", "created"],
    ]
    assert (root / "services/app/.env.keys").read_text().endswith(keys_line("production", KEY_A))
    staging = (root / "services/app-staging/.env.keys").read_text()
    assert staging.endswith(keys_line("staging", KEY_B))


def test_a_missing_secret_fails_only_its_mapping(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    put(root, "production/app-key", KEY_A)
    write_config(
        root,
        GET,
        mappings=[
            ("app-key", "services/app", "production"),
            ("gone-key", "services/gone", "production"),
        ],
    )
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 1
    assert sync_errors(result) == {
        "services/gone": "secret 'gone-key' not found: fetch command 'fake-cli' exited with "
        "status 3: Error: secret production/gone-key not found"
    }
    assert (root / "services/app/.env.keys").read_text().endswith(keys_line("production", KEY_A))


def test_vault_push_stores_through_stdin(root: Path, envdrift_cli: Callable[..., Result]) -> None:
    write_config(root, GET, PUT, mappings=[("app-key", "services/app", "production")])
    (root / "services/app/.env.keys").write_text(keys_line("production", KEY_A))
    result = envdrift_cli("vault-push")
    assert result.exit_code == 0, result.output
    assert (root / "store/production/app-key").read_text() == KEY_A
    assert all(KEY_A not in " ".join(run["argv"]) for run in runs(root))
    again = envdrift_cli("vault-push")
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.stdout


def test_vault_push_without_store_says_it_is_not_configured(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    write_config(root, GET, mappings=[("app-key", "services/app", "production")])
    (root / "services/app/.env.keys").write_text(keys_line("production", KEY_A))
    result = envdrift_cli("vault-push")
    assert result.exit_code == 1
    assert "vault 'command' has no store command" in result.output
    assert "add store = [" in result.output


def test_rotate_without_store_says_it_is_not_configured_and_changes_nothing(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    write_config(root, GET, mappings=[("app-key", "services/app", "production")])
    env = root / "services/app/.env.production"
    env.write_text("HELLO=world\n")
    assert envdrift_cli("encrypt", str(env)).exit_code == 0
    before = {p: p.read_bytes() for p in (root / "services/app").iterdir()}
    result = envdrift_cli("rotate", str(env))
    assert result.exit_code == 1
    assert "vault 'command' has no store command" in result.output
    assert {p: p.read_bytes() for p in (root / "services/app").iterdir()} == before


def test_a_string_command_is_exit_2_with_the_list_form(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    (root / "envdrift.toml").write_text(
        '[vault]\nprovider = "command"\n\n[vault.command]\n'
        "fetch = \"op read 'op://Engineering/{secret}/private key'\"\n\n"
        '[[vault.sync.mappings]]\nsecret_name = "app"\nfolder_path = "."\n'
    )
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: envdrift.toml: [vault.command] fetch must be a list of arguments, not a "
        'string: no shell runs it. Write fetch = ["op", "read", '
        '"op://Engineering/{secret}/private key"]'
    ]


def test_a_missing_program_is_one_line_for_the_whole_run(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    write_config(
        root,
        ["op-not-installed", "read", "{secret}"],
        mappings=[("a", "services/a", "production"), ("b", "services/b", "production")],
    )
    result = envdrift_cli("sync", "--ci")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: envdrift.toml: vault 'command': the fetch command 'op-not-installed' is not "
        "installed or not on PATH; install it, or give its full path in [vault.command] fetch"
    ]


def test_timeout_stops_a_hanging_fetch_within_seconds(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    write_config(
        root,
        ["./fake-cli", "hang", "{secret}"],
        mappings=[("app-key", "services/app", "production")],
    )
    assert_hanging_fetch_stopped(envdrift_cli, "services/app", "fake-cli", "app-key", under=15)


def test_jobs_bounds_the_commands_in_flight(
    root: Path, envdrift_cli: Callable[..., Result]
) -> None:
    import itertools
    import json

    mappings = [(f"k{i}", f"services/{env}{i}", env) for i in range(3) for env in ("dev", "prod")]
    write_config(root, ["./fake-cli", "slowget", "{secret}"], mappings=mappings)
    result = envdrift_cli("sync", "--ci", "--jobs", "1")
    # The values are no keys: every mapping fails to normalise, after its fetch ran.
    assert result.exit_code == 1
    assert len(sync_errors(result)) == 6
    spans = [json.loads(line) for line in (root / "spans.jsonl").read_text().splitlines()]
    assert len(spans) == 6
    overlap = max(sum(1 for s, e in spans if s <= moment < e) for moment in itertools.chain(*spans))
    assert overlap == 1
