"""``Vault``: the interface every vault backend implements.

A plugin returns ``Vault`` subclasses from ``envdrift_register_vaults()``. envdrift builds
one instance per vault it talks to, from the ``[vault.<name>]`` table of the config plus
command-line overrides, and calls ``fetch``/``fetch_many``/``store``, and the optional
``list``/``check`` where the backend supports them (``Vault.supports``).

Constructing a backend is cheap: no network, no SDK import. SDKs are imported inside
methods, so ``envdrift --help`` never pays for them.
"""

from __future__ import annotations

import abc
import concurrent.futures
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from envdrift._suggest import did_you_mean
from envdrift.errors import ConfigError, EnvdriftError, UnsupportedOperation, VaultError
from envdrift.retry import DEFAULT_TIMEOUT, Deadline, Retrier, RetryPolicy
from envdrift.secrets import scrub

if TYPE_CHECKING:
    from envdrift.config import SyncMapping
    from envdrift.secrets import Secret

T = TypeVar("T")

__all__ = ["OPTIONAL_OPERATIONS", "Vault", "VaultContext", "require_str"]

#: The methods a backend may leave out; ``Vault.supports`` says which it has.
OPTIONAL_OPERATIONS = ("list", "check")


@dataclass(frozen=True)
class VaultContext:
    """What a backend may need to know about where it runs.

    Attributes:
        base_dir: The config file's folder; relative paths in options resolve against it.
        vault_name: The vault name ``Vault.route`` chose for the mappings this instance
            serves (``None`` for backends without vault names).
        environment: The mappings' environment (``production``), for backends whose
            requests depend on it (``Vault.per_environment``); ``None`` otherwise.
        overrides: Command-line flags for this backend's options, already mapped to
            option names through ``Vault.cli_options``; they win over the file.
        debug: ``--debug`` was given; backends may log more (never a secret).
        timeout: Seconds one request may take (to connect, and for each read) before it
            is abandoned; backends set it on every request they make.
        retry: How ``Vault.retrying`` retries transient failures (``envdrift.retry``).
        deadline: The run's deadline, shared by every vault of the run; cancelling it
            (Ctrl-C) stops all retrying.
    """

    base_dir: Path = field(default_factory=Path.cwd)
    vault_name: str | None = None
    environment: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    debug: bool = False
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    deadline: Deadline = field(default_factory=Deadline)


class Vault(abc.ABC):
    """Base class of vault backends.

    Subclasses set ``name`` (lower case, what ``[vault] provider`` and ``-p`` say) and
    implement the abstract ``fetch`` and ``store``. The other methods are optional:

    * ``list`` and ``check``: by default they raise ``UnsupportedOperation``, which
      declares them unsupported (``supports``); commands and ``VaultContract`` honour it.
    * ``fetch_many``: override it when the service has a batch read.
    * ``route``: override it when a mapping's ``vault_name`` selects something (Azure:
      ``https://<name>.vault.azure.net``).
    * ``close`` and ``describe``.

    Class attributes:
        name: The provider name.
        description: One line for ``envdrift plugins``.
        cli_options: Maps generic CLI flags (``vault_url``, ``region``) to this
            backend's option names, e.g. ``{"vault_url": "url"}``.
        option_keys: The option names this backend accepts in ``[vault.<name>]``;
            ``None`` means the subclass validates its options in ``__init__``.
        per_environment: ``True`` when what a secret name means depends on the
            mapping's environment (the ``command`` vault's ``{environment}``): envdrift
            then builds one instance per environment and sets ``context.environment``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    cli_options: ClassVar[Mapping[str, str]] = {}
    option_keys: ClassVar[frozenset[str] | None] = None
    per_environment: ClassVar[bool] = False

    def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
        """Keep the options; validate them cheaply. No network and no SDK import here.

        Raises:
            ConfigError: an option is unknown or has the wrong type.
        """
        merged = {**options, **{k: v for k, v in context.overrides.items() if v is not None}}
        if self.option_keys is not None:
            unknown = sorted(set(merged) - self.option_keys)
            if unknown:
                allowed = ", ".join(sorted(self.option_keys)) or "(none)"
                hint = did_you_mean(unknown[0], self.option_keys)
                raise ConfigError(
                    f"unknown option {unknown[0]!r} in [vault.{self.name}].{hint} "
                    f"Allowed: {allowed}."
                )
        if context.vault_name is not None and not self.has_vault_names():
            # Built directly (not through a session) with a name it cannot use.
            raise ConfigError(_no_vault_names(self.name, context.vault_name))
        self.options: dict[str, Any] = merged
        self.context = context
        self._retrier = Retrier(
            context.retry, timeout=context.timeout, deadline=context.deadline, vault=self.describe
        )

    @classmethod
    def supports(cls, operation: str) -> bool:
        """Whether this backend offers the optional ``operation`` (``"list"``, ``"check"``).

        A backend supports an operation when it overrides the method. One that overrides
        it but cannot always serve it raises ``UnsupportedOperation`` from it instead.

        Raises:
            ValueError: ``operation`` is not one of ``OPTIONAL_OPERATIONS``.
        """
        if operation not in OPTIONAL_OPERATIONS:
            raise ValueError(
                f"{operation!r} is not an optional vault operation "
                f"({', '.join(OPTIONAL_OPERATIONS)})"
            )
        return getattr(cls, operation) is not getattr(Vault, operation)

    @classmethod
    def route(cls, mapping: SyncMapping, overrides: Mapping[str, Any]) -> tuple[str | None, str]:
        """Return ``(vault_name, secret_name)``: which vault of this kind holds ``mapping``'s
        secret, and the name to ask it for.

        envdrift builds one instance per distinct vault name (``VaultContext.vault_name``).
        This default is for backends without vault names: a ``pair.txt`` line's
        ``prefix/secret`` is a path (``apps/api-key``), and a ``vault_name`` in the
        config is an error rather than silently ignored, except a ``default_vault_name``
        that a vault address on the command line (``--vault-url``) replaces for the run.
        Backends whose vault name selects something (Azure) override it.

        Args:
            mapping: The mapping (``vault_name``, ``vault_name_is_default``,
                ``name_prefix``, ``secret_name``).
            overrides: This run's command-line overrides, by option name.

        Raises:
            ConfigError: the mapping names a vault this backend cannot select.
        """
        if mapping.name_prefix is not None:
            return None, f"{mapping.name_prefix}/{mapping.secret_name}"
        if mapping.vault_name is None or cls.address_overridden(mapping, overrides):
            return None, mapping.secret_name
        raise ConfigError(_no_vault_names(cls.name, mapping.vault_name))

    @classmethod
    def has_vault_names(cls) -> bool:
        """Whether a vault name selects something here: the backend overrides ``route``."""
        return cls.route.__func__ is not Vault.route.__func__  # type: ignore[attr-defined]

    @classmethod
    def address_overridden(cls, mapping: SyncMapping, overrides: Mapping[str, Any]) -> bool:
        """The mapping's vault name is the config's default and ``--vault-url`` replaces it."""
        address = cls.cli_options.get("vault_url")
        return mapping.vault_name_is_default and address is not None and address in overrides

    def describe(self) -> str:
        """Name this vault in messages, e.g. ``vault 'aws' (region eu-west-1)``."""
        return f"vault {self.name!r}"

    def retrying(self, request: Callable[[], T], *, what: str) -> T:
        """Return ``request()``, retrying transient failures under the run's policy.

        ``request`` makes one attempt (with ``context.timeout`` on its network calls) and
        raises ``UnavailableError`` for a failure a repeat may cure. Backends wrap each
        request in this; ``fetch_many`` already wraps every ``fetch``. Nested calls on
        one thread make one attempt each: only the outermost retries.

        Args:
            request: One attempt.
            what: The request in words for messages, e.g. ``read secret 'app-key'``.
        """
        return self._retrier.call(request, what=what)

    @abc.abstractmethod
    def fetch(self, name: str) -> Secret:
        """Return the current value of secret ``name``.

        Raises:
            NotFoundError: there is no such secret.
            PermissionDeniedError: the identity may not read it.
            UnavailableError: the vault could not be reached (after retries).
        """

    def fetch_many(
        self, names: Iterable[str], *, jobs: int = 8
    ) -> dict[str, Secret | EnvdriftError]:
        """Fetch several secrets; each name maps to its value or to the error it raised.

        The default runs ``fetch`` on a thread pool of ``jobs`` workers, each under
        ``retrying``. Backends with a batch API override it (and wrap each batch request
        in ``retrying``). One failing secret never stops the others.
        """
        unique = list(dict.fromkeys(names))
        results: dict[str, Secret | EnvdriftError] = {}
        if not unique:
            return results
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, min(jobs, len(unique)))
        ) as pool:
            futures = {pool.submit(self._fetch_retrying, n): n for n in unique}
            for future in concurrent.futures.as_completed(futures):
                name = futures[future]
                try:
                    results[name] = future.result()
                except EnvdriftError as exc:
                    results[name] = exc
                except Exception as exc:
                    # A backend bug (an SDK error it did not translate) stays on its
                    # secret too; --debug shows the traceback instead.
                    if self.context.debug:
                        raise
                    results[name] = self.unexpected(exc, f"on secret {name!r}")
        return results

    def unexpected(self, exc: Exception, where: str = "") -> VaultError:
        """Turn an exception the backend did not translate into a ``VaultError``.

        Its text is scrubbed of anything shaped like a key: it comes from code that
        does not know what is secret.
        """
        where = f" {where}" if where else ""
        return VaultError(
            f"{self.describe()} failed{where}: {type(exc).__name__}: {scrub(str(exc))}"
        )

    def _fetch_retrying(self, name: str) -> Secret:
        return self.retrying(lambda: self.fetch(name), what=f"read secret {name!r}")

    @abc.abstractmethod
    def store(self, name: str, value: Secret) -> None:
        """Store ``value`` as the new current version of secret ``name``.

        Creates the secret when it does not exist. The previous version stays reachable
        where the service keeps versions.
        """

    def list(self, prefix: str = "") -> list[str]:
        """Return the names of the secrets that start with ``prefix``, sorted (optional).

        Raises:
            UnsupportedOperation: the backend cannot list (the default).
        """
        raise self.unsupported("list secrets")

    def check(self) -> None:
        """Raise an ``EnvdriftError`` when this backend cannot work here (optional).

        Checks that the SDK is importable and the credentials are usable, without
        needing permissions beyond reading secrets.

        Raises:
            UnsupportedOperation: the backend has no such check (the default).
        """
        raise self.unsupported("check its setup")

    def unsupported(self, what: str) -> UnsupportedOperation:
        """The ``UnsupportedOperation`` to raise for ``what`` (``list secrets``)."""
        return UnsupportedOperation(f"{self.describe()} cannot {what}")

    def close(self) -> None:  # noqa: B027 - optional: most backends hold nothing to release
        """Release clients and connections. Called once when envdrift is done."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


def _no_vault_names(vault: str, vault_name: str) -> str:
    return (
        f"vault {vault!r} has no notion of a vault name, but vault_name {vault_name!r} is "
        "set; remove vault_name (or default_vault_name)"
    )


def require_str(options: Mapping[str, Any], key: str, vault: str) -> str | None:
    """Return ``options[key]`` as a string, or ``None``; raise ``ConfigError`` for a non-string."""
    value = options.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"[vault.{vault}] {key} must be a string, not {type(value).__name__}")
