"""Fixtures for every distribution's tests (core only: no SDK imports here).

Helpers (``sync_rows``, ``assert_no_private_key``, …) live in ``tests/helpers.py``. Our
CLI tests run commands with ``envdrift_cli``, the fixture envdrift ships to plugin
authors (``envdrift.testing.fixtures``), so we test with what they get.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["envdrift.testing.fixtures"]


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start slow tests first: under xdist they then overlap the rest, not trail it."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
