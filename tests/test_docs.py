"""The docs build without a warning, and the code they quote is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.venvs import REPO_ROOT


def test_quoted_code_matches_the_files_it_comes_from() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/docs_cog.py", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mkdocs_build_is_clean(tmp_path: Path) -> None:
    # mkdocs.yml sets strict: a broken link or anchor, or a page left out of the nav,
    # fails the build.
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "plugins" / "hooks" / "index.html").is_file()


def test_every_command_has_its_section_in_the_cli_reference() -> None:
    from envdrift.cli import COMMANDS

    reference = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [name for name in COMMANDS if f'cli_help("{name}")' not in reference]
    assert missing == [], f"docs/cli.md has no section for: {', '.join(missing)}"
