"""git in a test's throwaway repository: no user or system config, a fixed identity."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["git", "git_env"]


def git_env() -> dict[str, str]:
    """The environment git runs in (private keys of the test run left out)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOTENV_PRIVATE_KEY")},
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }


def git(root: Path, *args: str) -> str:
    """Run ``git ARGS`` in ``root``; return its stdout (a failure raises)."""
    done = subprocess.run(
        ["git", *args], cwd=root, env=git_env(), capture_output=True, text=True, check=True
    )
    return done.stdout
