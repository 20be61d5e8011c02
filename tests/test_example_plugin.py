"""The example plugin under docs/ installs next to envdrift-core alone and passes its tests.

This is what a third party does with the tutorial: a venv holding only envdrift-core and
their plugin, and their own test suite (which subclasses ``VaultContract``) run from
their plugin's folder. ``nox -s example_plugin`` does the same with pip defaults.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.venvs import REPO_ROOT, Venv, build_wheels

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLE = REPO_ROOT / "docs" / "examples" / "envdrift-example-vault"


@pytest.mark.slow
def test_example_plugin_passes_its_own_tests_next_to_core_only(tmp_path: Path) -> None:
    wheels = build_wheels(tmp_path / "wheels", REPO_ROOT / "envdrift-core", EXAMPLE)
    venv = Venv(tmp_path / "venv")
    venv.install(wheels["envdrift-core"], f"{wheels['envdrift-example-vault']}[test]")
    assert venv.distributions() == {"envdrift-core", "envdrift-example-vault"}

    result = venv.run("python", "-m", "pytest", "-q", cwd=EXAMPLE, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, summary
    # The contract alone has more than 15 tests: a collection mishap would show here.
    assert int(passed.group(1)) > 20, summary
    assert "skipped" not in summary, summary
