"""``VaultFlags``: what the command line says about the configuration and the vault.

Apart from ``_options`` (which declares the options) because only a running command
builds one: a dataclass costs ``envdrift --help`` the dataclasses import and the
compiling of its methods, for every command it lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift.cli._options import is_debug

if TYPE_CHECKING:
    import click

    from envdrift.config import Config, Limits
    from envdrift.plugins import PluginRegistry
    from envdrift.session import VaultSet
    from envdrift.targets import Target

__all__ = ["VaultFlags"]


@dataclass(frozen=True)
class VaultFlags:
    """What the command line says about the configuration and the vault.

    Attributes:
        config_file: ``-c/--config``, or ``None`` to discover.
        provider: ``-p/--provider``.
        vault_url: ``--vault-url`` (the backend maps it through ``Vault.cli_options``).
        region: ``--region`` (likewise).
        timeout: ``--timeout``: seconds one vault request may take.
        retries: ``--retries``: retries of a transient failure.
        deadline: ``--deadline``: seconds the run may spend on vault calls.
    """

    config_file: Path | None = None
    provider: str | None = None
    vault_url: str | None = None
    region: str | None = None
    timeout: float | None = None
    retries: int | None = None
    deadline: float | None = None

    @property
    def flags(self) -> dict[str, str | None]:
        """The generic flags a backend maps to its own options."""
        return {"vault_url": self.vault_url, "region": self.region}

    @property
    def limits(self) -> Limits:
        """``--timeout``/``--retries``/``--deadline`` as ``Limits``."""
        from envdrift.config import Limits

        return Limits(self.timeout, self.retries, self.deadline)

    def open_vaults(self, config: Config, registry: PluginRegistry, ctx: click.Context) -> VaultSet:
        """The run's session for ``config`` (``envdrift.session.open_vaults``), these
        flags winning over the file and ``--debug`` taken from ``ctx``."""
        from envdrift.session import open_vaults

        return open_vaults(
            config,
            registry,
            provider=self.provider,
            flags=self.flags,
            debug=is_debug(ctx),
            limits=self.limits,
        )

    def config_if_any(self) -> Config | None:
        """The configuration in effect here (``-c``, else discovered), or ``None`` when
        there is none (and then pydantic is never imported). Its warnings are printed
        by the config policy every command runs under."""
        from envdrift.discovery import find_config

        path = self.config_file or find_config(Path.cwd())
        if path is None:
            return None
        from envdrift.config import load_config

        return load_config(path, Path.cwd())

    def file_target(self, path: Path, *, secret: str | None, environment: str | None) -> Target:
        """The config mapping (or flags-only target) for the env file ``path``."""
        from envdrift.targets import resolve_target

        return resolve_target(
            path.parent,
            cwd=Path.cwd(),
            config_file=self.config_file,
            secret=secret,
            environment=environment,
            env_file=path,
        )
