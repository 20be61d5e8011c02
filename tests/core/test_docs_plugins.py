"""The messages docs/plugins/index.md quotes are the ones envdrift prints."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import envdrift._install
import pytest
from envdrift import PluginRegistry, Vault, __version__, hookimpl
from envdrift.errors import EnvdriftError

from tests.core.test_plugins import make_distribution

PLUGINS_DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "index.md"
#: The doc shows a realistic missing module and elides the site-packages path.
DOC_MODULE, DOC_DIR = "requests", "/…"
DOC_VERSION = "12.0.0"
MISSING_MODULE = "envdrift_missing_dependency_for_docs"


def documented_errors() -> list[str]:
    lines = (line.strip() for line in PLUGINS_DOC.read_text().splitlines())
    return [line for line in lines if line.startswith("Error: ")]


def message(registry: PluginRegistry, vault: str) -> str:
    with pytest.raises(EnvdriftError) as info:
        registry.vault_class(vault)
    return f"Error: {info.value}"  # what the CLI prints


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginRegistry:
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(
        site, "envdrift-broken", "envdrift_broken", f"import {MISSING_MODULE}\n", "broken"
    )
    monkeypatch.syspath_prepend(str(site))
    # Only the built-ins, the broken plugin and an `aws` stand-in, whatever is installed.
    monkeypatch.setenv("ENVDRIFT_LOAD_PLUGINS", "envdrift-broken")

    class Aws(Vault):
        name = "aws"

    @hookimpl
    def register() -> list[type[Vault]]:
        return [Aws]

    aws = SimpleNamespace(__name__="aws", envdrift_register_vaults=register)
    return PluginRegistry(plugins=[aws])


def test_the_quoted_errors_are_the_real_ones(
    registry: PluginRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The doc shows a core installed from the package index, at an example version.
    monkeypatch.setattr(envdrift._install, "_local_source", lambda distribution: None)
    real = [
        message(registry, "broken")
        .replace(MISSING_MODULE, DOC_MODULE)
        .replace(str(tmp_path / "site"), DOC_DIR),
        message(registry, "asw"),
        # Not installed (the registry above would call an installed one switched off).
        message(PluginRegistry(load_entry_points=False), "azure").replace(__version__, DOC_VERSION),
    ]
    assert documented_errors() == real
