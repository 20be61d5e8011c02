"""Shared fixtures for every distribution's tests (core only: no SDK imports here)."""

from __future__ import annotations

import os
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


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Run ``envdrift ARGS`` in-process and return Click's result (stdout/stderr apart)."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run
