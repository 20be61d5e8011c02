"""The ``command`` vault: any secret manager's own CLI as a backend.

1Password, Bitwarden, GCP Secret Manager, Doppler, Infisical, ``pass``, a company
wrapper: each already has a CLI with its own login. This vault runs it, so envdrift
needs no SDK and no credentials of its own for them. Config::

    [vault]
    provider = "command"

    [vault.command]
    fetch = ["op", "read", "op://Engineering/{secret}/private-key"]  # prints the value
    store = ["bao", "kv", "put", "secret/{secret}", "value=-"]       # reads it on stdin

How it stays safe:

* Commands are argument lists, never a shell line. ``{secret}`` (the mapping's secret
  name) and ``{environment}`` are replaced inside single arguments, so a name full of
  shell syntax is just text in one argument and cannot add arguments. A name that would
  start an argument with ``-`` (and so read as an option) is refused.
* The value travels only on the program's stdout (fetch) and stdin (store): never in
  its arguments or environment, where other processes could read it.
* Each run has ``--timeout`` seconds; then its whole process group is killed. It runs in
  its own session with stdin closed (fetch), so it cannot stop to prompt.
* Exit status 0 is the value; a failure that matches the not-found rule is a missing
  secret; a failure that matches the transient rule (none by default) is retried under
  the run's policy; anything else is an error naming the command and its status, with
  its stderr cut short and masked of anything shaped like a key.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from envdrift import (
    ConfigError,
    FormatError,
    NotFoundError,
    Secret,
    UnavailableError,
    UnsupportedOperation,
    Vault,
    VaultContext,
    VaultError,
    hookimpl,
)
from envdrift._fs import SECRET_LIMIT
from envdrift._suggest import did_you_mean
from envdrift.secrets import scrub

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from envdrift.builtins._process import Completed

__all__ = ["DEFAULT_NOT_FOUND_STDERR", "CommandVault"]

#: What the placeholders are replaced with: the mapping's secret name and environment.
PLACEHOLDERS = ("secret", "environment")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: Without a configured rule, a failed fetch whose stderr matches this is "not found".
#: It covers the wording of the CLIs in docs/guide.md's recipes.
DEFAULT_NOT_FOUND_STDERR = (
    r"(?i)not found|no value found|does not exist|doesn't exist|could not find|"
    r"can't find|cannot find|isn't an item|is not in the password store|no such secret"
)
#: Statuses a shell gives for "cannot run" and "command not found": never a missing
#: secret under the default rule, whatever the message says.
_SHELL_STATUSES = frozenset({126, 127})


@dataclass(frozen=True)
class _Rule:
    """Which failed runs count as one kind of failure: every condition set must hold."""

    codes: frozenset[int] = frozenset()
    pattern: re.Pattern[str] | None = None
    excluded: frozenset[int] = field(default_factory=frozenset)

    def matches(self, status: int, stderr: str) -> bool:
        if status in self.excluded or (not self.codes and self.pattern is None):
            return False
        if self.codes and status not in self.codes:
            return False
        return self.pattern is None or self.pattern.search(stderr) is not None


class CommandVault(Vault):
    """Secrets read and written by running a secret manager's CLI."""

    name = "command"
    description = "any secret manager's CLI (op, bw, gcloud, pass, bao, aws, …) run without a shell"
    per_environment = True
    option_keys = frozenset(
        {
            "fetch",
            "store",
            "not_found_exit_codes",
            "not_found_stderr",
            "transient_exit_codes",
            "transient_stderr",
        }
    )
    #: ``[vault.command]`` keys holding a command, in the order messages name them.
    commands: ClassVar[tuple[str, ...]] = ("fetch", "store")

    def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
        super().__init__(options, context)
        fetch = _argv(self.options, "fetch")
        if fetch is None:
            raise ConfigError(
                "vault 'command' needs a fetch command that prints the secret on stdout: "
                'set [vault.command] fetch = ["your-cli", "read", "{secret}"]'
            )
        self._fetch = fetch
        self._store = _argv(self.options, "store")
        self._not_found = _rule(self.options, "not_found", DEFAULT_NOT_FOUND_STDERR)
        self._transient = _rule(self.options, "transient", None)
        # Every command needs fetch (vault-push and rotate read the current value first),
        # so a missing program is one error for the whole run, not one per mapping.
        self._programs = {"fetch": self._resolve("fetch", fetch[0])}

    def describe(self) -> str:
        return f"vault 'command' ({os.path.basename(self._fetch[0])})"

    # -- the operations ---------------------------------------------------------------

    def fetch(self, name: str) -> Secret:
        return self.retrying(lambda: self._fetch_once(name), what=f"read secret {name!r}")

    def store(self, name: str, value: Secret) -> None:
        if self._store is None:
            # Declared unsupported: vault-push and rotate report it on the mapping.
            raise UnsupportedOperation(
                f"vault 'command' has no store command, so it cannot store secret {name!r}: "
                'add store = ["your-cli", "write", "{secret}"] to [vault.command] (the value '
                "is written to its stdin)"
            )
        self.retrying(lambda: self._store_once(name, value), what=f"store secret {name!r}")

    def check(self) -> None:
        for which in self.commands:
            argv = self._argv_of(which)
            if argv is not None:
                self._program(which, argv)

    # -- one run ----------------------------------------------------------------------

    def _fetch_once(self, name: str) -> Secret:
        done = self._run("fetch", name, stdin=None)
        what = f"fetch command {self._label('fetch')} for secret {name!r}"
        if done.status != 0:
            raise self._failure(done, what, name)
        if not done.stdout.strip():
            raise VaultError(f"{what} printed nothing (exit status 0); the value must be on stdout")
        try:
            return Secret(done.stdout.decode("utf-8"))
        except UnicodeDecodeError:
            raise FormatError(f"{what} printed something that is not UTF-8 text") from None

    def _store_once(self, name: str, value: Secret) -> None:
        done = self._run("store", name, stdin=value.reveal().encode("utf-8"))
        if done.status != 0:
            what = f"store command {self._label('store')} for secret {name!r}"
            raise self._failure(done, what, name, mask=value)

    def _run(self, which: str, name: str, *, stdin: bytes | None) -> Completed:
        argv = self._argv_of(which)
        assert argv is not None
        program = self._program(which, argv)
        # Imported here: every run that opens a vault loads this plugin, few run it.
        from envdrift.builtins._process import run

        try:
            done = run(
                [argv[0], *_substitute(argv[1:], which, name, self.context.environment)],
                executable=program,
                cwd=self.context.base_dir,
                timeout=self.context.timeout,
                stdin=stdin,
                stdout_limit=SECRET_LIMIT,
                cancelled=lambda: self.context.deadline.cancelled,
            )
        except OSError as exc:
            raise ConfigError(
                f"vault 'command' cannot run the {which} command {program!r}: {exc.strerror or exc}"
            ) from None
        what = f"{which} command {self._label(which)} for secret {name!r}"
        if done.stopped == "timeout":
            # Not transient: a store may have been applied, and a CLI that hangs once
            # (waiting on a login, a lock, a network) hangs again.
            raise UnavailableError(
                f"{what} did not finish within {self.context.timeout:g} s and was stopped "
                "(raise [vault] timeout or --timeout if it needs longer)",
                transient=False,
            )
        if done.stopped == "cancelled":
            raise UnavailableError(f"{what} was stopped: the run was interrupted", transient=False)
        if done.stopped == "overflow":
            raise FormatError(
                f"{what} printed more than {SECRET_LIMIT >> 10} KiB; a secret holds a key, "
                "not output of this size"
            )
        return done

    def _failure(
        self, done: Completed, what: str, name: str, *, mask: Secret | None = None
    ) -> VaultError:
        """The error for a run that exited with a failure; ``mask`` is the value stored."""
        assert done.status is not None
        stderr = done.stderr.decode("utf-8", errors="replace")
        ended = f"{_ended(done.status)}: {_shown(stderr, mask)}"
        storing = mask is not None
        if not storing and self._not_found.matches(done.status, stderr):
            return NotFoundError(
                f"secret {name!r} not found: fetch command {self._label('fetch')} {ended}"
            )
        if self._transient.matches(done.status, stderr):
            return UnavailableError(f"{what} {ended}")
        return VaultError(f"{what} {ended}")

    # -- configuration ----------------------------------------------------------------

    def _argv_of(self, which: str) -> tuple[str, ...] | None:
        return self._fetch if which == "fetch" else self._store

    def _label(self, which: str) -> str:
        argv = self._argv_of(which)
        return repr(os.path.basename(argv[0])) if argv else "''"

    def _program(self, which: str, argv: Sequence[str]) -> str:
        program = self._programs.get(which)
        if program is None:
            program = self._programs[which] = self._resolve(which, argv[0])
        return program

    def _resolve(self, which: str, program: str) -> str:
        """The file ``program`` runs: a path relative to the config folder, or on PATH."""
        if "/" in program or (os.altsep is not None and os.altsep in program):
            path = self.context.base_dir / program
            if not path.is_file():
                raise ConfigError(
                    f"vault 'command': the {which} command {program!r} does not exist "
                    f"({path}); paths are relative to the config file's folder"
                )
            if not os.access(path, os.X_OK):
                raise ConfigError(
                    f"vault 'command': the {which} command {program!r} is not executable "
                    f"({path}); run: chmod +x {shlex.quote(str(path))}"
                )
            return str(path)
        import shutil

        found = shutil.which(program)
        if found is None:
            raise ConfigError(
                f"vault 'command': the {which} command {program!r} is not installed or not "
                f"on PATH; install it, or give its full path in [vault.command] {which}"
            )
        return found


def _argv(options: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    """``[vault.command] <key>`` as an argument list, validated."""
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        raise ConfigError(
            f"[vault.command] {key} must be a list of arguments, not a string: no shell "
            f"runs it. Write {key} = {_as_list(value)}"
        )
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"[vault.command] {key} must be a non-empty list of arguments, e.g. "
            f'{key} = ["your-cli", "read", "{{secret}}"]'
        )
    for index, arg in enumerate(value):
        if not isinstance(arg, str):
            raise ConfigError(
                f"[vault.command] {key}[{index}] must be a string, not {type(arg).__name__}"
            )
        if "\x00" in arg:
            raise ConfigError(f"[vault.command] {key}[{index}] contains a NUL character")
        for placeholder in _PLACEHOLDER.findall(arg):
            if placeholder not in PLACEHOLDERS:
                hint = did_you_mean(placeholder, PLACEHOLDERS)
                raise ConfigError(
                    f"[vault.command] {key}[{index}]: unknown placeholder {{{placeholder}}}."
                    f"{hint} The placeholders are {{secret}} and {{environment}}."
                )
    if not value[0] or _PLACEHOLDER.search(value[0]):
        raise ConfigError(
            f"[vault.command] {key}[0] must name the program to run, without placeholders"
        )
    return tuple(value)


def _as_list(text: str) -> str:
    """``text`` split as a shell would, written as a TOML array (the suggested fix)."""
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = text.split()
    return json.dumps(parts or ["your-cli", "read", "{secret}"], ensure_ascii=False)


def _rule(options: Mapping[str, Any], prefix: str, default_pattern: str | None) -> _Rule:
    codes_key, stderr_key = f"{prefix}_exit_codes", f"{prefix}_stderr"
    raw_codes, raw_pattern = options.get(codes_key), options.get(stderr_key)
    if raw_codes is None and raw_pattern is None and default_pattern is not None:
        return _Rule(pattern=re.compile(default_pattern), excluded=_SHELL_STATUSES)
    codes: set[int] = set()
    if raw_codes is not None:
        if not isinstance(raw_codes, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 255 for c in raw_codes
        ):
            raise ConfigError(
                f"[vault.command] {codes_key} must be a list of exit statuses from 1 to 255, "
                f"e.g. {codes_key} = [2]"
            )
        codes = set(raw_codes)
    pattern = None
    if raw_pattern is not None:
        if not isinstance(raw_pattern, str):
            raise ConfigError(
                f"[vault.command] {stderr_key} must be a string (a regular expression)"
            )
        try:
            pattern = re.compile(raw_pattern) if raw_pattern else None
        except re.error as exc:
            raise ConfigError(
                f"[vault.command] {stderr_key} is not a valid regular expression: {exc}"
            ) from None
    return _Rule(codes=frozenset(codes), pattern=pattern)


def _substitute(args: Sequence[str], which: str, name: str, environment: str | None) -> list[str]:
    """Replace the placeholders inside each argument; each argument stays one argument."""
    if "\x00" in name:
        raise ConfigError(f"secret name {name!r} contains a NUL character")
    values = {"secret": name, "environment": environment}
    out = []
    for arg in args:

        def replace(match: re.Match[str]) -> str:
            value = values[match.group(1)]
            if value is None:
                raise ConfigError(
                    f"[vault.command] {which} uses {{environment}}, but no environment is "
                    "known here"
                )
            return value

        # One pass: a secret name that itself reads "{environment}" stays as it is.
        substituted = _PLACEHOLDER.sub(replace, arg)
        first = _PLACEHOLDER.match(arg)
        if first is not None and substituted.startswith("-"):
            raise ConfigError(
                f"{first.group(1)} {values[first.group(1)]!r} would start an argument of the "
                f"{which} command with '-', where it would be read as an option; rename it"
            )
        out.append(substituted)
    return out


def _ended(status: int) -> str:
    if status < 0:
        try:
            return f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with status {status}"


def _shown(stderr: str, mask: Secret | None) -> str:
    """stderr on one line, without the value it was given and without key-shaped text."""
    text = " ".join(stderr.split())
    if mask is not None and len(mask) >= 4:
        secret = " ".join(mask.reveal().split())
        if secret:
            text = text.replace(secret, "***")
    return scrub(text, keep_end=True) if text else "(nothing on stderr)"


@hookimpl(trylast=True)
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``command`` vault."""
    return [CommandVault]
