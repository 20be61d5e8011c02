"""The release build, and what users get from it.

``scripts/build.sh`` runs once per module (``release``): five sdists, a wheel built from
each sdist on its own, ``twine check``. From that ``dist/``:

- every wheel and sdist carries the licence;
- ``pip install --find-links dist 'envdrift[aws]'`` in a fresh venv installs this project,
  and ``envdrift --version`` says what pip says;
- envdrift 11.1.1 (PyPI) and envdrift-core installed over each other, either way round,
  get one line naming both and the fix, not an ImportError traceback;
- the README's install-from-checkout block, run verbatim in a copy of the working tree
  (a fresh clone), gives a working ``envdrift plugins`` listing the provider it chose;
- one venv grows step by step, the way a user's does: envdrift-core alone, then
  envdrift-aws, then the umbrella ``envdrift[vault]``. After each step ``envdrift plugins
  --json`` (the venv's own console script) must list exactly what is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from envdrift.__about__ import __version__

from tests.venvs import REPO_ROOT, Venv, build_wheels, copy_working_tree, pip_env

BACKENDS = ("aws", "azure", "hashicorp")
DISTRIBUTIONS = ("envdrift", "envdrift-core", *(f"envdrift-{name}" for name in BACKENDS))

#: The envdrift on PyPI before this project replaced it.
LEGACY = "envdrift==11.1.1"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``scripts/build.sh``'s output, built once for this module's tests."""
    dist = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "DIST": str(dist), "PYTHON": sys.executable}
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "build.sh"), "--no-isolation"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2 * len(DISTRIBUTIONS), result.stdout
    return dist


def wheels_in(dist: Path) -> dict[str, Path]:
    """The wheels in ``dist`` by distribution name (envdrift_core-… -> envdrift-core)."""
    return {w.name.split("-")[0].replace("_", "-"): w for w in dist.glob("*.whl")}


def test_every_wheel_and_sdist_carries_the_licence(release: Path) -> None:
    licence = (REPO_ROOT / "LICENSE").read_bytes()
    wheels = wheels_in(release)
    assert sorted(wheels) == sorted(DISTRIBUTIONS)
    for name, wheel in wheels.items():
        assert wheel.name == f"{name.replace('-', '_')}-{__version__}-py3-none-any.whl"
        with zipfile.ZipFile(wheel) as archive:
            member = f"{name.replace('-', '_')}-{__version__}.dist-info/licenses/LICENSE"
            assert archive.read(member) == licence, wheel.name
    sdists = sorted(release.glob("*.tar.gz"))
    assert len(sdists) == len(DISTRIBUTIONS)
    for sdist in sdists:
        with tarfile.open(sdist) as archive:
            top = sdist.name.removesuffix(".tar.gz")
            member = archive.extractfile(f"{top}/LICENSE")
            assert member is not None, sdist.name
            assert member.read() == licence, sdist.name


def test_plain_pip_wheel_builds_each_folder_of_a_checkout(tmp_path: Path) -> None:
    folders = [REPO_ROOT, *(REPO_ROOT / name for name in DISTRIBUTIONS if name != "envdrift")]
    wheels = build_wheels(tmp_path, *folders)  # pip wheel --no-deps, one folder each
    assert sorted(wheels) == sorted(DISTRIBUTIONS)
    for name, wheel in wheels.items():
        assert wheel.name == f"{name.replace('-', '_')}-{__version__}-py3-none-any.whl"


def test_find_links_install_of_the_umbrella_is_this_project(release: Path, tmp_path: Path) -> None:
    # The package index also offers envdrift 11.1.1: pip must pick the release in dist/.
    venv = Venv(tmp_path / "venv")
    venv.install("--find-links", release, "envdrift[aws]")

    assert venv.distributions() == {"envdrift", "envdrift-core", "envdrift-aws"}
    assert venv.version("envdrift") == __version__
    assert venv.run("envdrift", "--version").stdout.strip() == f"envdrift {__version__}"
    assert set(third_party(venv.plugins())) == {"aws"}
    listing = venv.run("envdrift", "plugins").stdout
    assert f"envdrift-aws {__version__}" in listing
    verbose = venv.run("envdrift", "--version", "--verbose").stdout.splitlines()
    assert verbose[1:] == [f"  {name} {__version__}" for name in sorted(venv.distributions())]


def test_envdrift_11_and_core_over_each_other_explain_themselves(
    release: Path, tmp_path: Path
) -> None:
    venv = Venv(tmp_path / "venv")
    venv.install(LEGACY)
    # Core over 11.x: our console script, 11.x's cli.py and sync/ left in the package.
    venv.install(wheels_in(release)["envdrift-core"])
    assert_one_line_about_both(venv.run("envdrift", "plugins", check=False))
    # 11.x over core (what `pip install 'envdrift[azure]'` did): 11.x's console script,
    # which imports `app` from the envdrift.cli package that shadows its cli.py.
    venv.install("--force-reinstall", "--no-deps", LEGACY)
    assert_one_line_about_both(venv.run("envdrift", "--help", check=False))


def readme_block(marker: str) -> list[str]:
    """The lines of the README's code block that follows ``<!-- marker… -->``."""
    text = (REPO_ROOT / "README.md").read_text()
    after = text.split(f"<!-- {marker}", 1)[1]
    block = after.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def test_the_readme_install_from_a_checkout_works_verbatim(tmp_path: Path) -> None:
    lines = readme_block("install-from-checkout")
    clone_line, *steps = lines
    assert clone_line.startswith("git clone ")
    assert clone_line.endswith("&& cd envdrift")
    clone = copy_working_tree(tmp_path / "envdrift")
    result = subprocess.run(
        ["bash", "-c", "\n".join(["set -eu", *steps])],
        cwd=clone,
        capture_output=True,
        text=True,
        env=pip_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["aws", "envdrift-aws", __version__, "aws", "ok"] in rows, result.stdout


def assert_one_line_about_both(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: envdrift 11.1.1 and envdrift-core {__version__} are installed")
    assert "pip uninstall -y envdrift envdrift-core" in line


def third_party(plugins: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The plugins that do not come from envdrift-core, after checking the built-ins."""
    builtins = {name: p for name, p in plugins.items() if p["builtin"]}
    assert "files" in builtins
    for name, plugin in builtins.items():
        assert plugin["distribution"] == "envdrift-core", name
        assert plugin["error"] is None, f"{name}: {plugin['error']}"
    return {name: p for name, p in plugins.items() if not p["builtin"]}


def assert_backend(plugin: dict[str, Any], name: str) -> None:
    assert plugin["distribution"] == f"envdrift-{name}"
    assert plugin["version"] == __version__
    assert plugin["error"] is None, plugin["error"]
    assert plugin["vaults"] == [name]


def test_core_alone_then_one_backend_then_the_umbrella(release: Path, tmp_path: Path) -> None:
    wheels = wheels_in(release)
    venv = Venv(tmp_path / "venv")

    venv.install(wheels["envdrift-core"])
    assert venv.distributions() == {"envdrift-core"}
    assert venv.run("envdrift", "--version").stdout.strip() == f"envdrift {__version__}"
    assert third_party(venv.plugins()) == {}

    venv.install(wheels["envdrift-aws"])
    assert venv.distributions() == {"envdrift-core", "envdrift-aws"}
    plugins = third_party(venv.plugins())
    assert set(plugins) == {"aws"}
    assert_backend(plugins["aws"], "aws")

    # The umbrella pins the backends exactly; the local wheels on the same command line
    # satisfy those pins (they are not on the package index).
    venv.install(f"{wheels['envdrift']}[vault]", *(wheels[f"envdrift-{name}"] for name in BACKENDS))
    assert venv.distributions() == {"envdrift", "envdrift-core"} | {
        f"envdrift-{name}" for name in BACKENDS
    }
    plugins = third_party(venv.plugins())
    assert set(plugins) == set(BACKENDS)
    for name in BACKENDS:
        assert_backend(plugins[name], name)
