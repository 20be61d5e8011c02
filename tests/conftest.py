"""Shared fixtures for every distribution's tests (core only: no SDK imports here)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from envdrift.cli import cli

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Keep each test away from the developer's real credentials and key files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("DOTENV_PRIVATE_KEY", "ENVDRIFT_")) and name != "ENVDRIFT_DOTENVX":
            monkeypatch.delenv(name)
    return


#: A dotenvx private key: exactly 64 hex digits (public keys are 66, fingerprints 8).
PRIVATE_KEY_SHAPE = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")


def assert_no_private_key(text: str, where: str = "output") -> None:
    """Fail when ``text`` contains anything shaped like a private key."""
    leaked = PRIVATE_KEY_SHAPE.search(text)
    assert leaked is None, f"a private-key-shaped value leaked into {where}"


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Run ``envdrift ARGS`` in-process and return Click's result (stdout/stderr apart).

    Every invocation is scanned: no private key may ever reach stdout or stderr. A test
    whose command legitimately prints one passes ``allow_keys=True``.
    """

    def run(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        allow_keys: bool = False,
        obj: object = None,
    ) -> Result:
        runner = CliRunner()
        result = runner.invoke(
            cli, list(args), input=input, env=env, catch_exceptions=False, obj=obj
        )
        if not allow_keys:
            assert_no_private_key(result.stdout, f"stdout of envdrift {' '.join(args)}")
            assert_no_private_key(result.stderr, f"stderr of envdrift {' '.join(args)}")
        return result

    return run


SYNC_HEADER = ["FOLDER", "SECRET", "ENVIRONMENT", "OUTCOME", "REASON"]


def sync_rows(result: Result) -> list[list[str]]:
    """The rows of ``envdrift sync``'s table: folder, secret, environment, outcome[, reason]."""
    lines = result.stdout.splitlines()
    assert lines[0].split() == SYNC_HEADER, result.output
    return [line.split(None, 4) for line in lines[1 : lines.index("")]]


def sync_errors(result: Result) -> dict[str, str]:
    """Folder -> reason of every mapping that ended in an error."""
    return {row[0]: row[4] for row in sync_rows(result) if len(row) == 5 and row[3] == "error"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start slow tests first: under xdist they then overlap the rest, not trail it."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
