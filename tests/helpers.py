"""Helpers our tests import (``tests/conftest.py`` holds fixtures only).

The private-key pattern is the one ``envdrift.testing.fixtures`` ships (and its
``envdrift_cli`` fixture scans every command's output with): defined once, there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envdrift.testing.fixtures import PRIVATE_KEY_SHAPE

if TYPE_CHECKING:
    from click.testing import Result

__all__ = [
    "PRIVATE_KEY_SHAPE",
    "REPO_ROOT",
    "SYNC_HEADER",
    "assert_no_private_key",
    "sync_errors",
    "sync_rows",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
SYNC_HEADER = ["FOLDER", "SECRET", "ENVIRONMENT", "OUTCOME", "REASON"]


def assert_no_private_key(text: str, where: str = "output") -> None:
    """Fail when ``text`` contains anything shaped like a private key."""
    leaked = PRIVATE_KEY_SHAPE.search(text)
    assert leaked is None, f"a private-key-shaped value leaked into {where}"


def sync_rows(result: Result) -> list[list[str]]:
    """The rows of ``envdrift sync``'s table: folder, secret, environment, outcome[, reason]."""
    lines = result.stdout.splitlines()
    assert lines[0].split() == SYNC_HEADER, result.output
    return [line.split(None, 4) for line in lines[1 : lines.index("")]]


def sync_errors(result: Result) -> dict[str, str]:
    """Folder -> reason of every mapping that ended in an error."""
    return {row[0]: row[4] for row in sync_rows(result) if len(row) == 5 and row[3] == "error"}
