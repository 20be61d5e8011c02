"""Finding, loading and asking plugins.

envdrift-core's own plugins (``BUILTIN_PLUGINS``) are registered from here; every other
plugin through an entry point of the ``envdrift`` group. Each loads in its own ``try``:
one broken plugin never breaks the CLI. Its error is kept, shown by ``envdrift plugins``,
and raised only when someone asks for a vault it might provide.

Plugins load the first time something needs them, never at import, and only as many as
the question needs. A built-in vault is found without looking at the installed
distributions; one of our own backends (``aws``, ``azure``, ``hashicorp``) through its
own distribution's entry points; anything else, the list of vaults, and the decryption
check load every plugin. The owners of those names register before any other plugin,
so the answer is the same whichever way it was found: a plugin claiming one of their
names gets that as its error, never the name.
"""

from __future__ import annotations

import importlib
import inspect
import os
import threading
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from envdrift import hookspecs
from envdrift.__about__ import __version__
from envdrift._install import FIRST_PARTY_BACKENDS
from envdrift._suggest import did_you_mean
from envdrift.errors import PluginLoadError, UnknownVaultError
from envdrift.vaults import Vault, VaultContext

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint
    from pathlib import Path

    from envdrift.hookspecs import DecryptionCheck
    from envdrift.secrets import Secret

__all__ = ["ENTRY_POINT_GROUP", "PluginInfo", "PluginRegistry"]

ENTRY_POINT_GROUP = "envdrift"
CORE_DISTRIBUTION = "envdrift-core"
#: envdrift-core's own plugins: name -> module. They are registered from here, not through
#: entry points, so a built-in vault needs no look at the installed distributions. A
#: built-in plugin that provides a vault is named after it.
BUILTIN_PLUGINS: dict[str, str] = {
    "dotenvx": "envdrift.builtins.dotenvx",
    "files": "envdrift.builtins.files",
    "command": "envdrift.builtins.command",
}


@dataclass
class PluginInfo:
    """One plugin as ``envdrift plugins`` shows it.

    Attributes:
        name: The entry-point name (or the name given to ``register``).
        distribution: The installed distribution that declares it, if any.
        version: That distribution's version.
        module: The module that was (or failed to be) loaded.
        vaults: Names of the vaults it provides.
        builtin: Shipped inside ``envdrift-core``.
        error: Why loading failed, or ``None``.
    """

    name: str
    distribution: str | None
    version: str | None
    module: str
    vaults: list[str] = field(default_factory=list)
    builtin: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "vaults": self.vaults,
            "builtin": self.builtin,
            "error": self.error,
        }


def _allowed_third_party() -> set[str] | None:
    """Parse ``ENVDRIFT_LOAD_PLUGINS``: ``None`` = all, otherwise the allowed names."""
    raw = os.environ.get("ENVDRIFT_LOAD_PLUGINS")
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


class PluginRegistry:
    """A fresh plugin manager plus what envdrift learnt while loading it.

    Args:
        load_entry_points: Use the installed plugins: envdrift-core's own and those that
            entry points declare. ``False`` leaves only ``plugins``, as tests want.
        plugins: Extra plugin objects (modules or instances) to register, as tests do.
    """

    def __init__(self, *, load_entry_points: bool = True, plugins: Iterable[object] = ()) -> None:
        self._load_entry_points = load_entry_points
        self._extra = list(plugins)
        self._complete = False
        #: Loading runs once, whichever thread asks first (sync's workers check
        #: decryption concurrently); the others wait for it.
        self._loading = threading.RLock()
        self._infos: list[PluginInfo] = []
        self._vaults: dict[str, type[Vault]] = {}
        self._vault_owner: dict[str, str] = {}
        #: Entry points already looked at (loaded, failed or switched off).
        self._seen: set[EntryPoint] = set()
        #: Entry points ``ENVDRIFT_LOAD_PLUGINS`` left unloaded: ``(name, distribution)``.
        self._switched_off: list[tuple[str, str | None]] = []
        #: Infos whose distribution and version are still to be read (``_describe``).
        self._undescribed: dict[int, EntryPoint] = {}
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)

    # -- loading -----------------------------------------------------------------

    def load(self) -> None:
        """Load every plugin once; safe to call again, from any thread."""
        with self._loading:
            if self._complete:
                return
            if self._load_entry_points:
                for name in BUILTIN_PLUGINS:
                    self._load_builtin(name)
                for distribution in FIRST_PARTY_BACKENDS.values():
                    self._load_distribution(distribution)
                from importlib.metadata import entry_points

                self._load_entry_points_of(entry_points(group=ENTRY_POINT_GROUP))
            for index, plugin in enumerate(self._extra):
                name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
                info = PluginInfo(name=name, distribution=None, version=None, module=name)
                self._register(plugin, info)
            self._complete = True

    def _load_for(self, vault: str) -> None:
        """Load what provides ``vault`` if its owner is known: a built-in plugin, or our
        own backend's distribution. Anything else waits for ``load``."""
        with self._loading:
            if not self._load_entry_points or self._complete:
                return
            if vault in BUILTIN_PLUGINS:
                self._load_builtin(vault)
            elif vault in FIRST_PARTY_BACKENDS:
                self._load_distribution(FIRST_PARTY_BACKENDS[vault])

    def _load_builtin(self, name: str) -> None:
        if any(info.builtin and info.name == name for info in self._infos):
            return
        module = BUILTIN_PLUGINS[name]
        info = PluginInfo(
            name=name,
            distribution=CORE_DISTRIBUTION,
            version=__version__,
            module=module,
            builtin=True,
        )
        try:
            plugin = importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - reported like any plugin's failure
            info.error = _describe_failure(exc)
            self._infos.append(info)
            return
        self._register(plugin, info)

    def _load_distribution(self, distribution: str) -> None:
        """Load the entry points of one installed distribution, if it is installed."""
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import distribution as installed

        try:
            found = installed(distribution)
        except PackageNotFoundError:
            return
        self._load_entry_points_of(ep for ep in found.entry_points if ep.group == ENTRY_POINT_GROUP)

    def _load_entry_points_of(self, entry_points: Iterable[EntryPoint]) -> None:
        allowed = _allowed_third_party()
        for ep in sorted(entry_points, key=lambda e: e.name):
            # An entry point into the envdrift package is envdrift-core's own (from an
            # install older than BUILTIN_PLUGINS), and those are registered from here.
            if ep in self._seen or ep.module.partition(".")[0] == "envdrift":
                continue
            self._seen.add(ep)
            info = PluginInfo(name=ep.name, distribution=None, version=None, module=ep.value)
            if allowed is not None:
                self._describe(info, ep)
                if not ({ep.name, info.distribution} & allowed):
                    self._switched_off.append((ep.name, info.distribution))
                    continue
            # A distribution's metadata is read only to show it: `envdrift plugins` and
            # the errors naming a plugin ask for it, a run that only opens a vault never.
            self._undescribed[id(info)] = ep
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's, not ours
                info.error = _describe_failure(exc)
                self._infos.append(info)
                continue
            self._register(plugin, info)

    @staticmethod
    def _describe(info: PluginInfo, ep: EntryPoint) -> None:
        if ep.dist is not None:
            info.distribution = ep.dist.name if info.distribution is None else info.distribution
            info.version = ep.dist.version

    def _described(self, infos: Iterable[PluginInfo]) -> list[PluginInfo]:
        """``infos`` with their distribution and version read from the metadata."""
        infos = list(infos)
        for info in infos:
            ep = self._undescribed.pop(id(info), None)
            if ep is not None:
                self._describe(info, ep)
        return infos

    def _register(self, plugin: object, info: PluginInfo) -> None:
        self._infos.append(info)
        try:
            self.pm.register(plugin, name=info.name)
            self.pm.check_pending()
        except Exception as exc:  # noqa: BLE001 - a bad hook must not break the others
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            info.error = _describe_failure(exc)
            return
        self._collect_vaults(plugin, info)

    def _collect_vaults(self, plugin: object, info: PluginInfo) -> None:
        for impl in self.pm.hook.envdrift_register_vaults.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            try:
                classes = self._checked_vaults(impl.function(), info)
            except Exception as exc:  # noqa: BLE001 - a failing hook is that plugin's error
                info.error = _describe_failure(exc)
                continue
            # All or nothing: a plugin whose answer is partly wrong provides no vault.
            for cls in classes:
                self._vaults[cls.name] = cls
                self._vault_owner[cls.name] = info.name
                info.vaults.append(cls.name)

    def _checked_vaults(self, returned: object, info: PluginInfo) -> list[type[Vault]]:
        if returned is None:
            return []
        if not isinstance(returned, list | tuple):
            raise TypeError(
                f"envdrift_register_vaults returned {type(returned).__name__}, "
                "not a list of Vault subclasses"
            )
        classes: list[type[Vault]] = []
        for cls in returned:
            if not (isinstance(cls, type) and issubclass(cls, Vault)):
                raise TypeError(f"envdrift_register_vaults returned {cls!r}, not a Vault subclass")
            name = cls.name
            if not name or name != name.lower():
                raise TypeError(f"{cls.__qualname__}.name must be a non-empty lower-case string")
            owner = self._vault_owner.get(name)
            if owner is not None and owner != info.name:
                raise PluginLoadError(
                    f"vault {name!r} is provided by both plugin {owner!r} and plugin "
                    f"{info.name!r}; uninstall one of them"
                )
            classes.append(cls)
        return classes

    # -- queries -----------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """Return every plugin found, loaded or not, in a stable order."""
        self.load()
        return sorted(self._described(self._infos), key=lambda i: (not i.builtin, i.name))

    def vault_names(self) -> list[str]:
        """Return the names of every available vault, sorted."""
        self.load()
        return sorted(self._vaults)

    def vault_class(self, name: str) -> type[Vault]:
        """Return the backend class called ``name``.

        Raises:
            PluginLoadError: the plugin that would provide it failed to load.
            UnknownVaultError: nothing provides it (with a suggestion and, for our own
                backends, the install command).
        """
        self._load_for(name)
        if name in self._vaults:
            return self._vaults[name]
        self.load()
        if name in self._vaults:
            return self._vaults[name]
        for info in self._described(i for i in self._infos if i.error is not None):
            if name in {info.name, info.distribution}:
                # The CLI prefixes "Error: ", so the message does not start with it.
                raise PluginLoadError(
                    f'plugin "{info.distribution or info.name}" failed to load, so vault '
                    f"{name!r} is unavailable: {info.error}"
                )
        for ep_name, dist in self._switched_off:
            if name in {ep_name, dist, _short(dist)}:
                raise UnknownVaultError(
                    f'vault {name!r} is unavailable: plugin "{dist or ep_name}" is installed '
                    "but switched off by ENVDRIFT_LOAD_PLUGINS "
                    f"({os.environ.get('ENVDRIFT_LOAD_PLUGINS', '')!r}); add {ep_name!r} to it, "
                    "or unset it to load every plugin"
                )
        installed = ", ".join(sorted(self._vaults)) or "(none)"
        if name in FIRST_PARTY_BACKENDS:
            from envdrift._install import install_command

            raise UnknownVaultError(
                f"vault {name!r} is not installed. "
                f"Install it with: {install_command(FIRST_PARTY_BACKENDS[name])}"
            )
        hint = did_you_mean(name, [*self._vaults, *FIRST_PARTY_BACKENDS])
        broken = [i.distribution or i.name for i in self._infos if i.error]
        extra = f" Plugins that failed to load: {', '.join(broken)}." if broken else ""
        raise UnknownVaultError(
            f"unknown vault {name!r}.{hint} Installed vaults: {installed}.{extra}"
        )

    def make_vault(
        self, name: str, options: Mapping[str, Any], context: VaultContext | None = None
    ) -> Vault:
        """Build the backend ``name`` from its options (cheap: no network).

        Raises:
            PluginLoadError: the plugin's class leaves an abstract method unimplemented.
            ConfigError: the backend refused its options.
        """
        cls = self.vault_class(name)
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            owner = self._vault_owner.get(name, "?")
            raise PluginLoadError(
                f"vault {name!r} of plugin {owner!r} cannot be used: {cls.__qualname__} does "
                f"not implement {missing}"
            )
        return cls(options, context or VaultContext())

    def verify_decryption(
        self, path: Path, text: str, private_key: Secret, *, environment: str | None = None
    ) -> DecryptionCheck | None:
        """Ask the plugins whether ``private_key`` decrypts the file; first answer wins.

        ``environment``: set when ``path`` is a candidate found in a mapping's folder
        (see ``envdrift_verify_decryption``).
        """
        self.load()
        result: DecryptionCheck | None = self.pm.hook.envdrift_verify_decryption(
            path=path, text=text, private_key=private_key, environment=environment
        )
        return result


def _short(distribution: str | None) -> str | None:
    """``envdrift-aws`` -> ``aws``: the vault name our own distributions are named after."""
    prefix = "envdrift-"
    if distribution and distribution.startswith(prefix):
        return distribution[len(prefix) :]
    return None


def _describe_failure(exc: BaseException) -> str:
    """One line for a plugin failure: the exception type and message, plus where."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"
