"""Options shared by the commands that talk to a vault, and the registry they use.

``envdrift --help`` builds every command's options to list the commands, so this module
(and every command module) imports at module level only what defining an option needs:
no pathlib, json or dataclasses (test_startup.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import os
    from pathlib import Path

    from envdrift.plugins import PluginRegistry

__all__ = [
    "PathType",
    "ci_option",
    "complete_profile",
    "complete_provider",
    "env_file_options",
    "format_option",
    "is_debug",
    "jobs_option",
    "keys_file_option",
    "profile_option",
    "registry_from",
    "vault_options",
]


class PathType(click.Path["Path"]):
    """``click.Path(path_type=pathlib.Path)`` that imports pathlib when given a path, not
    when an option is declared: pathlib (with the urllib.parse and ipaddress it imports)
    would cost every ``--help`` about 4 ms."""

    def coerce_path_result(self, value: str | os.PathLike[str]) -> Path:
        from pathlib import Path

        return Path(value)


def complete_provider(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for ``-p/--provider``: the vaults the installed plugins provide."""
    from envdrift.plugins import PluginRegistry

    return [name for name in PluginRegistry().vault_names() if name.startswith(incomplete)]


def complete_profile(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for ``--profile``: the profiles of the configuration in use.

    That is ``-c FILE`` when it comes earlier on the line, else the file discovered from
    the current directory; nothing when there is none or it does not load.
    """
    from pathlib import Path

    from envdrift.config import load_config
    from envdrift.errors import EnvdriftError

    try:
        config = load_config(ctx.params.get("config_file"), Path.cwd())
    except (EnvdriftError, OSError):
        return []
    profiles = {m.profile for m in config.mappings if m.profile is not None}
    return sorted(p for p in profiles if p.startswith(incomplete))


def profile_option(verb: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--profile NAME`` (as ``profile``): also ``verb`` the mappings tagged with it."""
    return click.option(
        "--profile",
        shell_complete=complete_profile,
        help=f"Also {verb} the mappings tagged with this profile.",
    )


ci_option = click.option(
    "--ci",
    is_flag=True,
    help="Never prompt; a differing local key or an unread config key is an error.",
)
"""``--ci`` (as ``ci``), for the commands that run the sync engine."""


def format_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format text|json`` (as ``output_format``), with this command's ``help``."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )


def jobs_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-j/--jobs N`` (as ``jobs``): how many ``what`` run at once."""
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(1, 256),
        help=f"{what} at once (default: [vault.sync] max_workers, else 32).",
    )


def keys_file_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-fk/--keys-file PATH`` (as ``keys_file``), with this command's ``help``."""
    return click.option(
        "-fk",
        "--keys-file",
        type=PathType(dir_okay=False),
        help=help,
    )


def env_file_options(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-f/--env-file`` (as ``env_files``, with this command's ``help``), ``-fk/--keys-file``
    and ``-o/--overload``: the files ``envdrift.runenv`` reads, as ``dotenvx run`` does."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option("-f", "--env-file", "env_files", multiple=True, metavar="FILE", help=help),
        keys_file_option(
            "Read private keys from this file (default: .env.keys next to each FILE and in .)."
        ),
        click.option(
            "-o",
            "--overload",
            is_flag=True,
            help="File values win over variables already set (and later files over earlier).",
        ),
    ]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


class Seconds(click.FloatRange):
    """A number of seconds in a range; ``nan`` is refused (it passes every range check)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return number


_OPTIONS = [
    click.option(
        "-c",
        "--config",
        "config_file",
        type=PathType(),
        help="Config file: envdrift.toml, a pyproject.toml, or a legacy pair.txt. "
        "Default: discovered from the current directory upwards.",
    ),
    click.option(
        "-p",
        "--provider",
        shell_complete=complete_provider,
        help="Vault provider (overrides [vault] provider).",
    ),
    click.option(
        "--vault-url", help="Vault address for the provider (Azure vault_url, Vault url)."
    ),
    click.option("--region", help="Region for the provider (AWS)."),
    click.option(
        "--timeout",
        type=Seconds(0, 3600, min_open=True),
        metavar="SECONDS",
        help="Seconds one vault request may take (default: [vault] timeout, else 10).",
    ),
    click.option(
        "--retries",
        type=click.IntRange(0, 20),
        help="Retries of a failed vault request, with backoff (default: [vault] retries, else 4).",
    ),
    click.option(
        "--deadline",
        type=Seconds(0, 86400, min_open=True),
        metavar="SECONDS",
        help="Seconds the whole run may spend on vault calls (default: [vault] deadline, "
        "else 120).",
    ),
]
_NAMES = ("config_file", "provider", "vault_url", "region", "timeout", "retries", "deadline")


def vault_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the vault options; the command receives them as one ``vault_flags`` argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from envdrift.cli._vault_flags import VaultFlags

        vault_flags = VaultFlags(**{name: kwargs.pop(name) for name in _NAMES})
        return func(*args, vault_flags=vault_flags, **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


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
