"""A run's session: the vaults one command talks to, opened from a validated ``Config``.

``config`` parses and validates; this module turns the result into live backends. A
command loads its ``Config``, calls ``open_vaults`` (the CLI goes through
``VaultFlags.open_vaults``), and hands the ``VaultSet`` to the engine (``run_sync``,
``run_push``, ``verify_vault``, ``rotate_file``), which finds each mapping's backend,
the run's deadline and the plugins through it. The set closes every backend it built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from envdrift.config import Limits
from envdrift.errors import ConfigError
from envdrift.retry import DEFAULT_DEADLINE, DEFAULT_RETRIES, DEFAULT_TIMEOUT, Deadline, RetryPolicy
from envdrift.vaults import VaultContext

if TYPE_CHECKING:
    from pathlib import Path

    from envdrift.config import Config, SyncMapping
    from envdrift.hookspecs import DecryptionCheck
    from envdrift.plugins import PluginRegistry
    from envdrift.secrets import Secret
    from envdrift.vaults import Vault

__all__ = ["CLI_FLAGS", "VaultSet", "open_vaults", "retry_settings"]

#: Command-line flags that reach a backend, by their generic option name.
CLI_FLAGS = {"vault_url": "--vault-url", "region": "--region"}


def retry_settings(limits: Limits) -> tuple[float, RetryPolicy, float]:
    """``(timeout, policy, deadline)`` for ``limits``, ``envdrift.retry``'s defaults filling
    what is unset. The request timeout never exceeds the deadline, so a first attempt fits.
    """
    deadline = limits.deadline if limits.deadline is not None else DEFAULT_DEADLINE
    timeout = limits.timeout if limits.timeout is not None else DEFAULT_TIMEOUT
    retries = limits.retries if limits.retries is not None else DEFAULT_RETRIES
    return min(timeout, deadline), RetryPolicy(retries=retries), deadline


def open_vaults(
    config: Config,
    registry: PluginRegistry,
    *,
    provider: str | None = None,
    flags: Mapping[str, str | None] | None = None,
    debug: bool = False,
    limits: Limits | None = None,
) -> VaultSet:
    """Return the ``VaultSet`` of a run on ``provider`` (default: ``[vault] provider``).

    Cheap: backends are built when a mapping first needs them. The run's deadline
    starts now.

    Args:
        config: The loaded configuration.
        registry: Where backends come from (and who verifies decryption).
        provider: ``-p/--provider``; wins over the file.
        flags: Generic command-line options (``vault_url``, ``region``) whose value is
            not ``None``; they win over ``[vault.<provider>]``.
        debug: ``--debug`` was given.
        limits: ``--timeout``, ``--retries``, ``--deadline``; each set one wins over
            ``[vault]``, and the defaults of ``envdrift.retry`` fill the rest.

    Raises:
        ConfigError: no provider anywhere, or a flag the backend does not take, or
            (strict config) a ``[vault.<name>]`` table no installed backend reads.
        UnknownVaultError: no installed plugin provides the provider.
    """
    chosen = provider or config.provider
    if not chosen:
        installed = ", ".join(registry.vault_names()) or "none"
        where = (
            "pass -p/--provider (pair.txt cannot name one)"
            if config.kind == "pair.txt"
            else f"set [{config.key_prefix}vault] provider in {config.label} or pass -p/--provider"
        )
        raise ConfigError(f"no vault provider: {where}. Installed vaults: {installed}.")
    cls = registry.vault_class(chosen)
    overrides: dict[str, Any] = {}
    for flag, value in (flags or {}).items():
        if value is None:
            continue
        option = cls.cli_options.get(flag)
        if option is None:
            accepted = ", ".join(CLI_FLAGS.get(f, f) for f in cls.cli_options) or "none"
            raise ConfigError(
                f"{CLI_FLAGS.get(flag, flag)} does not apply to vault {chosen!r} "
                f"(its flags: {accepted}); set its options in [vault.{chosen}] instead"
            )
        overrides[option] = value
    merged = (limits or Limits()).over(config.limits)
    # Printed (or, under strict config, refused) here, so every command opening vaults
    # says it; kept on the set for the JSON documents.
    warnings = tuple(config.section_warnings(registry.vault_names, provider=chosen))
    return VaultSet(
        config, registry, chosen, overrides, debug=debug, limits=merged, warnings=warnings
    )


class VaultSet:
    """The session of one run: its configuration, plugins and backends, built on first
    use and closed together: one per distinct vault name (for ``per_environment``
    backends, one per vault name and environment).

    Use as a context manager, or call ``close()``. Build it with ``open_vaults``.

    Attributes:
        config: The run's configuration.
        registry: The run's plugins.
        provider: The backend's name.
        limits: The run's timeout, retries and deadline (``None`` = default).
        deadline: Shared by every backend of the run; ``cancel()`` it to stop all
            retrying.
        warnings: ``[vault.<name>]`` tables no installed backend reads (``open_vaults``
            has printed them).
    """

    def __init__(
        self,
        config: Config,
        registry: PluginRegistry,
        provider: str,
        overrides: Mapping[str, Any],
        *,
        debug: bool = False,
        limits: Limits | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.warnings = warnings
        self.registry = registry
        self.provider = provider
        self._cls = registry.vault_class(provider)
        self._overrides = dict(overrides)
        self._debug = debug
        self._instances: dict[tuple[str | None, str | None], Vault] = {}
        self.limits = limits or Limits()
        self._timeout, self._policy, seconds = retry_settings(self.limits)
        self.deadline = Deadline(seconds)

    def target(self, mapping: SyncMapping) -> tuple[str | None, str]:
        """Return ``(vault_name, secret_name)`` as this backend understands the mapping.

        Raises:
            ConfigError: the backend cannot select the mapping's vault (named with the
                mapping).
        """
        try:
            return self._cls.route(mapping, self._overrides)
        except ConfigError as exc:
            raise ConfigError(f"{self.config.label} ({mapping.origin}): {exc}") from None

    def for_mapping(self, mapping: SyncMapping) -> tuple[Vault, str]:
        """Return the backend for ``mapping`` and the secret name to ask it for.

        Raises:
            ConfigError: the backend refused its options (or the mapping's vault name).
        """
        vault_name, secret = self.target(mapping)
        environment = mapping.environment if self._cls.per_environment else None
        vault = self._instances.get((vault_name, environment))
        if vault is None:
            vault = self._make(vault_name, environment)
            self._instances[vault_name, environment] = vault
        return vault, secret

    def _make(self, vault_name: str | None, environment: str | None) -> Vault:
        context = VaultContext(
            base_dir=self.config.root,
            vault_name=vault_name,
            environment=environment,
            overrides=self._overrides,
            debug=self._debug,
            timeout=self._timeout,
            retry=self._policy,
            deadline=self.deadline,
        )
        options = self.config.vault_tables.get(self.provider, {})
        try:
            return self.registry.make_vault(self.provider, options, context)
        except ConfigError as exc:
            raise ConfigError(f"{self.config.label}: {exc}") from None

    def verify_decryption(
        self, path: Path, text: str, private_key: Secret, *, environment: str | None = None
    ) -> DecryptionCheck | None:
        """Ask the plugins whether ``private_key`` decrypts ``path``; first answer wins.

        ``environment``: set when ``path`` is a candidate found in a mapping's folder
        (see ``envdrift_verify_decryption``).
        """
        return self.registry.verify_decryption(path, text, private_key, environment=environment)

    @property
    def debug(self) -> bool:
        """``--debug`` was given: unexpected errors should show their traceback."""
        return self._debug

    @property
    def instances(self) -> list[Vault]:
        """The backends built so far: one per vault name (and environment, for backends
        that are ``per_environment``)."""
        return list(self._instances.values())

    def close(self) -> None:
        """Close every backend built; one failing ``close`` does not skip the others."""
        instances, self._instances = list(self._instances.values()), {}
        errors: list[BaseException] = []
        for vault in instances:
            try:
                vault.close()
            except Exception as exc:  # noqa: BLE001 - close the rest, then report
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> VaultSet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
