"""Opt-in pytest fixtures for testing envdrift plugins.

Activate them from a ``conftest.py`` at the root of your tests::

    pytest_plugins = ["envdrift.testing.fixtures"]

Nothing here activates itself: envdrift-core declares no ``pytest11`` entry point, so
installing envdrift never adds fixtures to anybody else's test run (the way pytest's own
``pytester`` waits to be asked for).

Fixtures:
    plugin_registry: a factory of fresh ``PluginRegistry`` objects.
    files_vault: a working ``files`` vault over an empty folder.
    envdrift_cli: runs ``envdrift ARGS`` in-process and returns Click's result.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from click.testing import Result

    from envdrift.plugins import PluginRegistry
    from envdrift.vaults import Vault

__all__ = [
    "PRIVATE_KEY_SHAPE",
    "CliRunnerFixture",
    "RegistryFactory",
    "envdrift_cli",
    "files_vault",
    "plugin_registry",
]

#: A dotenvx private key: exactly 64 hex digits (public keys have 66, fingerprints 8).
PRIVATE_KEY_SHAPE = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")


class RegistryFactory(Protocol):
    """The type of the ``plugin_registry`` fixture, for annotating your tests."""

    def __call__(
        self, *plugins: object, load_entry_points: bool = False
    ) -> PluginRegistry: ...  # pragma: no cover - a protocol has no body


class CliRunnerFixture(Protocol):
    """The type of the ``envdrift_cli`` fixture, for annotating your tests."""

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None,
        allow_keys: bool = False,
        registry: PluginRegistry | None = None,
    ) -> Result: ...  # pragma: no cover - a protocol has no body


@pytest.fixture
def plugin_registry() -> RegistryFactory:
    """Return a factory of fresh plugin registries, one per call.

    ``plugin_registry(my_plugin_module)`` registers only the plugin objects you pass,
    so a test sees exactly your hooks. ``load_entry_points=True`` also loads every
    installed plugin, as the ``envdrift`` command does (``ENVDRIFT_LOAD_PLUGINS``
    applies). Each registry has its own plugin manager: tests share no state.
    """
    from envdrift.plugins import PluginRegistry

    def make(*plugins: object, load_entry_points: bool = False) -> PluginRegistry:
        return PluginRegistry(load_entry_points=load_entry_points, plugins=plugins)

    return make


@pytest.fixture
def files_vault(tmp_path: Path) -> Iterator[Vault]:
    """Return the built-in ``files`` vault over the empty folder ``tmp_path / "vault"``.

    It is built through a registry from the ``files`` plugin, the way envdrift builds
    any vault, and closed after the test. Its secrets are the files in that folder.
    """
    from envdrift.builtins import files
    from envdrift.plugins import PluginRegistry
    from envdrift.vaults import VaultContext

    root = tmp_path / "vault"
    root.mkdir()
    registry = PluginRegistry(load_entry_points=False, plugins=[files])
    vault = registry.make_vault("files", {"path": "vault"}, VaultContext(base_dir=tmp_path))
    try:
        yield vault
    finally:
        vault.close()


@pytest.fixture
def envdrift_cli() -> CliRunnerFixture:
    """Return a function that runs ``envdrift ARGS`` in-process.

    It returns Click's ``Result`` (``exit_code``, ``stdout`` and ``stderr`` apart).
    Exceptions other than envdrift's own errors propagate, so a crash shows its
    traceback. ``env`` sets (or, with ``None``, removes) environment variables for
    the call; ``cwd`` runs it in another folder; ``registry`` (say, from
    ``plugin_registry(my_plugin)``) is the plugin registry the command uses instead of
    the installed plugins. The test fails when anything shaped like a private key (64
    hex digits) reaches stdout or stderr, unless ``allow_keys=True``.
    """
    from click.testing import CliRunner

    from envdrift.cli import cli

    def run(
        *args: str,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None,
        allow_keys: bool = False,
        registry: PluginRegistry | None = None,
    ) -> Result:
        obj = {"registry": registry} if registry is not None else None
        with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
            result = CliRunner().invoke(
                cli, list(args), input=input, env=env, catch_exceptions=False, obj=obj
            )
        if not allow_keys:
            command = " ".join(["envdrift", *args])
            for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
                assert PRIVATE_KEY_SHAPE.search(text) is None, (
                    f"a private-key-shaped value reached the {stream} of {command}"
                )
        return result

    return run
