"""Each distribution installs on its own, and the umbrella's extras add the backends.

One throwaway venv grows step by step, the way a user's does: envdrift-core alone, then
envdrift-aws, then the umbrella ``envdrift[vault]``. After each step ``envdrift plugins
--json`` (the venv's own console script) must list exactly what is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from envdrift.__about__ import __version__

from tests.venvs import REPO_ROOT, Venv, build_wheels

if TYPE_CHECKING:
    from pathlib import Path

BACKENDS = ("aws", "azure", "hashicorp")


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


@pytest.mark.slow
def test_core_alone_then_one_backend_then_the_umbrella(tmp_path: Path) -> None:
    wheels = build_wheels(
        tmp_path / "wheels",
        REPO_ROOT / "envdrift-core",
        *(REPO_ROOT / f"envdrift-{name}" for name in BACKENDS),
        REPO_ROOT,
    )
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
