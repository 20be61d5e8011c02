"""How a run treats what its configuration says that envdrift does not read.

An unknown key is a warning by default: the config still loads and the key is ignored.
Under ``--ci`` (any command that has the flag) or ``ENVDRIFT_STRICT=1`` it is an error
(exit 2) before anything is read or written: a misspelt ``enviroment`` would otherwise
send the production key where the staging key belongs, silently.

The CLI sets the policy around each command (``config_policy``); ``load_config`` and the
vault session ask for it (``current_policy``), so every command that reads the config,
including ones added later, follows it without passing a flag down. Nothing here imports
more than the standard library: the CLI group imports it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from envdrift.errors import ConfigError

__all__ = ["ConfigPolicy", "config_policy", "current_policy", "strict_from_environment"]

#: What ``ENVDRIFT_STRICT`` may be set to for strict config.
_TRUE = frozenset({"1", "true", "yes", "on"})
#: How every config warning says what it leaves out; the error drops it.
_IGNORED = re.compile(r" (?:and )?is ignored")


def strict_from_environment() -> bool:
    """Whether ``ENVDRIFT_STRICT`` asks for strict config (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get("ENVDRIFT_STRICT", "").strip().lower() in _TRUE


@dataclass
class ConfigPolicy:
    """Strict or not, and where the config's warnings are printed.

    Attributes:
        strict: Unknown keys are errors (``--ci``, ``ENVDRIFT_STRICT=1``).
        warn: Prints one warning; ``None`` leaves the warnings to the caller.
        why: Names the switch in errors (``"--ci"``).
    """

    strict: bool = False
    warn: Callable[[str], None] | None = None
    why: str = "ENVDRIFT_STRICT=1"
    _said: set[str] = field(default_factory=set)

    def check(self, warnings: Iterable[str]) -> None:
        """Raise the first warning as an error when strict; else print each (once).

        Every config warning says what ``is ignored``; under strict config the same
        sentence, without those words, is the error.

        Raises:
            ConfigError: strict, and there is a warning (exit 2).
        """
        warnings = list(warnings)
        if self.strict and warnings:
            first = _IGNORED.sub("", warnings[0], count=1)
            more = f" ({len(warnings) - 1} more like it)" if len(warnings) > 1 else ""
            raise ConfigError(
                f"{first}{more} {self.why} makes what envdrift would ignore in the config "
                "an error: fix or remove it"
            )
        if self.warn is not None:
            for warning in warnings:
                if warning not in self._said:
                    self._said.add(warning)
                    self.warn(warning)


_POLICY: contextvars.ContextVar[ConfigPolicy | None] = contextvars.ContextVar(
    "envdrift_config_policy", default=None
)


def current_policy() -> ConfigPolicy:
    """The policy the CLI set for this command, else the one ``ENVDRIFT_STRICT`` gives."""
    policy = _POLICY.get()
    return policy if policy is not None else ConfigPolicy(strict=strict_from_environment())


@contextlib.contextmanager
def config_policy(
    *, ci: bool = False, warn: Callable[[str], None] | None = None
) -> Iterator[ConfigPolicy]:
    """Apply a policy for the block: strict with ``ci`` or ``ENVDRIFT_STRICT``."""
    policy = ConfigPolicy(
        strict=ci or strict_from_environment(),
        warn=warn,
        why="--ci" if ci else "ENVDRIFT_STRICT=1",
    )
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)
