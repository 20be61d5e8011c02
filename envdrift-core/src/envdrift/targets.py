"""Which config, mapping and vault a single-file or single-folder command talks to.

``decrypt --verify-vault``, ``vault-push`` and ``rotate`` work on one env file or folder.
They use the discovered (or ``-c``) configuration when there is one, take the mapping
whose folder holds the file, and let command-line flags win: ``--secret``, ``--env``,
``-p``, ``--vault-url``, ``--region``. Without any configuration the flags alone must
say everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift.config import Config, SyncMapping, find_config, load_config
from envdrift.dotenvx.suffix import environment_suffix
from envdrift.errors import ConfigError
from envdrift.session import CLI_FLAGS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from envdrift.plugins import PluginRegistry

__all__ = ["Target", "covering_target", "environment_of", "mapping_for", "resolve_target"]


@dataclass(frozen=True)
class Target:
    """A resolved single target.

    Attributes:
        config: The configuration used (a command-line-only one when no file exists).
        mapping: The mapping for the folder: from the config, or made from the flags.
        config_found: A configuration file was used.
        discoverable: Running ``envdrift sync`` in the current directory would find the
            same configuration file (so repair commands need no ``-c``).
    """

    config: Config
    mapping: SyncMapping
    config_found: bool
    discoverable: bool

    def sync_command(
        self, registry: PluginRegistry, *, provider: str | None, flags: Mapping[str, str | None]
    ) -> str:
        """The ``envdrift sync --force`` that fetches this target's key, run from here.

        It adds only what ``envdrift sync`` would not find by itself: ``-c`` when
        discovery from here misses the configuration used; ``--profile`` for a tagged
        mapping (an untagged run skips it); and each provider flag that changes what the
        configuration says (every flag given, when there is no configuration file).
        """
        words = ["envdrift", "sync", "--force"]
        if self.mapping.profile is not None:
            words += ["--profile", _quote(self.mapping.profile)]
        return self._command(words, registry, provider, flags)

    def push_command(
        self,
        secret: str,
        registry: PluginRegistry,
        *,
        provider: str | None,
        flags: Mapping[str, str | None],
        force: bool = True,
    ) -> str:
        """The ``envdrift vault-push FOLDER SECRET --env ENV --force`` that stores this
        target's local key again, and no other mapping's (a bare ``vault-push --force``
        would force every configured mapping). ``-c`` and provider flags as in
        ``sync_command``; ``force=False`` leaves out ``--force`` (a first push)."""
        mapping = self.mapping
        words = ["envdrift", "vault-push", _quote(os.path.relpath(mapping.folder))]
        words += [_quote(secret), "--env", _quote(mapping.environment)]
        words += ["--force"] if force else []
        return self._command(words, registry, provider, flags)

    def mapping_lines(
        self, registry: PluginRegistry, *, provider: str | None, flags: Mapping[str, str | None]
    ) -> list[str]:
        """The ``envdrift.toml`` that maps this target, for a run without a config file.

        ``envdrift sync`` reads only mappings, so a teammate needs these lines (the
        provider and each provider flag given, then the mapping) before it can fetch the
        key; relative to the current directory, where the file would go.
        """
        mapping = self.mapping
        lines = ["[vault]", f"provider = {_toml(provider)}"] if provider else []
        given = {name: value for name, value in flags.items() if value is not None}
        if provider and given:
            options = registry.vault_class(provider).cli_options
            lines += ["", f"[vault.{provider}]"]
            lines += [
                f"{options.get(name, name)} = {_toml(value)}" for name, value in given.items()
            ]
        lines += [
            *([""] if lines else []),
            "[[vault.sync.mappings]]",
            f"secret_name = {_toml(mapping.secret_name)}",
            f"folder_path = {_toml(Path(mapping.folder_path).as_posix())}",
            f"environment = {_toml(mapping.environment)}",
        ]
        return lines

    def _command(
        self,
        words: list[str],
        registry: PluginRegistry,
        provider: str | None,
        flags: Mapping[str, str | None],
    ) -> str:
        """``words`` plus the ``-c`` and provider flags a run from here needs."""
        if self.config_found and not self.discoverable:
            words += ["-c", _quote(self.config.label)]
        configured = self.config.provider if self.config_found else None
        if provider is not None and provider != configured:
            words += ["-p", _quote(provider)]
        chosen = provider or configured
        given = {name: value for name, value in flags.items() if value is not None}
        if chosen and given:
            options = registry.vault_class(chosen).cli_options
            table = self.config.vault_tables.get(chosen, {}) if self.config_found else {}
            for name, value in given.items():
                if name not in options or table.get(options[name]) != value:
                    words += [CLI_FLAGS.get(name, f"--{name}"), _quote(value)]
        return " ".join(words)


# The two helpers below write repair commands and config lines, which few runs print:
# they import what they use (every `run` and `decrypt` imports this module).


def _quote(word: str) -> str:
    """``word`` quoted for a POSIX shell, where it needs quoting."""
    import shlex

    return shlex.quote(word)


def _toml(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's for these)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def environment_of(path: Path) -> str:
    """Return the environment dotenvx derives from an env file name (``production``)."""
    return environment_suffix(path.name).lstrip("_").lower()


def resolve_target(
    folder: Path,
    *,
    cwd: Path,
    config_file: Path | None,
    secret: str | None,
    environment: str | None,
    env_file: Path | None = None,
) -> Target:
    """Find the mapping for ``folder`` and apply the command-line overrides.

    Args:
        folder: The service folder (an env file's folder, or ``vault-push FOLDER``).
        cwd: Where discovery starts and relative paths resolve.
        config_file: ``-c``; ``None`` discovers.
        secret: ``--secret``: wins over the mapping's secret.
        environment: ``--env``: wins over the mapping's environment and the file name.
        env_file: The env file, when there is one: its name gives the environment when
            neither ``--env`` nor a mapping does, and picks among several mappings of
            one folder.

    Raises:
        ConfigError: nothing says which secret to use, or the config is invalid.
    """
    found = config_file if config_file is not None else find_config(cwd)
    folder = Path(os.path.abspath(cwd / folder))
    file_env = environment_of(env_file) if env_file is not None else None
    if found is not None:
        config = load_config(found, cwd)
        mapping = mapping_for(config, folder, environment or file_env)
        discoverable = discoverable_from(config, cwd)
    else:
        config = Config(
            path=cwd / "(command line)", kind="envdrift.toml", root=cwd, label="the command line"
        )
        mapping, discoverable = None, False
    if mapping is None:
        if secret is None:
            where = (
                f"no mapping in {config.label} covers {folder}"
                if found
                else ("no envdrift.toml or [tool.envdrift] was found")
            )
            raise ConfigError(f"{where}; pass --secret NAME (and -p PROVIDER)")
        mapping = SyncMapping(
            index=0,
            secret_name=secret,
            folder_path=os.path.relpath(folder, config.root),
            folder=folder,
            environment=(environment or file_env or "production"),
            vault_name=None,
            profile=None,
            origin="the command line",
        )
    else:
        if secret is not None:
            mapping = replace(mapping, secret_name=secret, name_prefix=None)
        if environment is not None:
            mapping = replace(mapping, environment=environment)
    return Target(config, mapping, found is not None, discoverable)


def discoverable_from(config: Config, cwd: Path) -> bool:
    """Whether a run in ``cwd`` finds ``config`` by itself, so a command needs no ``-c``."""
    found = find_config(cwd)
    return found is not None and os.path.samefile(found, config.path)


def covering_target(env_file: Path, *, cwd: Path | None = None) -> Target | None:
    """The discovered configuration's mapping that covers ``env_file``'s folder, if any.

    For hints only: no configuration, an invalid one, or no covering mapping gives
    ``None``, never an error.
    """
    cwd = cwd or Path.cwd()
    found = find_config(cwd)
    if found is None:
        return None
    try:
        config = load_config(found, cwd)
    except ConfigError:
        return None
    mapping = mapping_for(config, cwd / env_file.parent, environment_of(env_file))
    return None if mapping is None else Target(config, mapping, True, True)


def mapping_for(config: Config, folder: Path, environment: str | None) -> SyncMapping | None:
    """The mapping whose folder is ``folder``; among several, the one for ``environment``."""
    real = os.path.realpath(folder)
    matches = [m for m in config.mappings if os.path.realpath(m.folder) == real]
    if environment is not None:
        exact = [m for m in matches if m.environment.lower() == environment.lower()]
        matches = exact or matches
    return matches[0] if matches else None
