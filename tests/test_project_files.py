"""The files a release is made of agree with each other: one version, one licence, URLs.

These read the repository's files only (fast); tests/test_distributions.py builds and
installs the wheels and checks what pip and ``envdrift`` report.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
from envdrift.__about__ import PLUGIN_API, __version__

from tests.venvs import REPO_ROOT

FOLDERS = {
    "envdrift": REPO_ROOT,
    "envdrift-core": REPO_ROOT / "envdrift-core",
    "envdrift-aws": REPO_ROOT / "envdrift-aws",
    "envdrift-azure": REPO_ROOT / "envdrift-azure",
    "envdrift-hashicorp": REPO_ROOT / "envdrift-hashicorp",
}
ABOUT = REPO_ROOT / "envdrift-core" / "src" / "envdrift" / "__about__.py"
EXAMPLE = REPO_ROOT / "docs" / "examples" / "envdrift-example-vault"


def pyproject(folder: Any) -> dict[str, Any]:
    with (folder / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_every_distribution_reads_the_one_version_file(name: str) -> None:
    folder = FOLDERS[name]
    project = pyproject(folder)
    assert project["project"]["name"] == name
    assert "version" not in project["project"], f"{name} spells its own version"
    assert "version" in project["project"]["dynamic"]
    assert (folder / project["tool"]["hatch"]["version"]["path"]).resolve() == ABOUT


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_every_distribution_ships_the_mit_licence_and_names_its_urls(name: str) -> None:
    folder = FOLDERS[name]
    meta = pyproject(folder)["project"]
    assert meta["license"] == "MIT"
    assert meta["license-files"] == ["LICENSE"]
    licence = (folder / "LICENSE").read_text()
    assert licence == (REPO_ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(meta["urls"])


@pytest.mark.parametrize(
    "folder", [*(FOLDERS[f"envdrift-{b}"] for b in ("aws", "azure", "hashicorp")), EXAMPLE]
)
def test_plugins_pin_the_plugin_api_as_cores_major(folder: Any) -> None:
    dependencies = pyproject(folder)["project"]["dependencies"]
    assert f"envdrift-core>={PLUGIN_API},<{PLUGIN_API + 1}" in dependencies


def test_the_plugin_api_is_the_major_version() -> None:
    assert __version__.split(".")[0] == str(PLUGIN_API)


def test_changelog_lists_this_release_in_keep_a_changelog_form() -> None:
    text = (REPO_ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert __version__ in headings


def test_the_contributor_hooks_use_the_tools_requirements_dev_pins() -> None:
    import yaml

    pins = {
        line.split("==")[0].lower(): line.strip()
        for line in (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
    ruff_hooks = [
        hook for repo in config["repos"] for hook in repo["hooks"] if hook["id"].startswith("ruff")
    ]
    assert len(ruff_hooks) == 2
    for hook in ruff_hooks:
        assert hook["additional_dependencies"] == [pins["ruff"]], hook["id"]
