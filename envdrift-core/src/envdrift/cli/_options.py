"""Options shared by the commands that talk to a vault, and the registry they use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from envdrift.plugins import PluginRegistry

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["flags_of", "is_debug", "provider_flags", "registry_from", "vault_options"]


def vault_options(func: F) -> F:
    """Add ``-c/--config``, ``-p/--provider``, ``--vault-url`` and ``--region``."""
    options = [
        click.option(
            "-c",
            "--config",
            "config_file",
            type=click.Path(path_type=Path),
            help="Config file: envdrift.toml, a pyproject.toml, or a legacy pair.txt. "
            "Default: discovered from the current directory upwards.",
        ),
        click.option("-p", "--provider", help="Vault provider (overrides [vault] provider)."),
        click.option(
            "--vault-url", help="Vault address for the provider (Azure vault_url, Vault url)."
        ),
        click.option("--region", help="Region for the provider (AWS)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def flags_of(vault_url: str | None, region: str | None) -> dict[str, str | None]:
    """The generic flags a backend maps to its own options (``Vault.cli_options``)."""
    return {"vault_url": vault_url, "region": region}


def provider_flags(provider: str | None, vault_url: str | None, region: str | None) -> list[str]:
    """The flags as a user would retype them, for commands printed as advice."""
    import shlex

    flags: list[str] = []
    for name, value in (("-p", provider), ("--vault-url", vault_url), ("--region", region)):
        if value is not None:
            flags += [name, shlex.quote(value)]
    return flags


def registry_from(ctx: click.Context) -> PluginRegistry:
    """The run's plugin registry: a fresh one, or the one a test put in ``ctx.obj``."""
    from envdrift.plugins import PluginRegistry

    obj = ctx.find_root().obj
    registry = obj.get("registry") if isinstance(obj, dict) else None
    return registry if isinstance(registry, PluginRegistry) else PluginRegistry()


def is_debug(ctx: click.Context) -> bool:
    """``--debug`` was given to ``envdrift``."""
    obj = ctx.find_root().obj
    return bool(obj.get("debug")) if isinstance(obj, dict) else False
