"""``JsonFileVault``: secrets kept as one JSON object in a single file.

Config, in ``envdrift.toml``::

    [vault]
    provider = "jsonfile"

    [vault.jsonfile]
    path = "secrets.json"   # relative to the config file's folder

The file holds ``{"secret-name": "value", ...}``. Writes replace it atomically, with
mode 0600, and a lock file beside it (``secrets.json.lock``) keeps two writers from
losing each other's secrets.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from envdrift import (
    ConfigError,
    EnvdriftError,
    FormatError,
    NotFoundError,
    PermissionDeniedError,
    Secret,
    Vault,
    VaultContext,
    require_str,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping


class JsonFileVault(Vault):
    """Secrets stored as the string values of one JSON object in one file."""

    name = "jsonfile"
    description = "secrets in one JSON file (the example plugin from envdrift's docs)"
    # The only key [vault.jsonfile] accepts; the base class rejects the others with a
    # did-you-mean hint.
    option_keys = frozenset({"path"})
    # `--vault-url FILE` on the command line sets `path`.
    cli_options = {"vault_url": "path"}

    def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
        # Cheap on purpose: no file is opened until a method needs it.
        super().__init__(options, context)
        raw = require_str(self.options, "path", self.name)
        if not raw:
            raise ConfigError(
                "vault 'jsonfile' needs a file: set [vault.jsonfile] path = \"secrets.json\" "
                "(relative to the config file) or pass --vault-url FILE"
            )
        self.path = (context.base_dir / raw).resolve()
        self._thread_lock = threading.Lock()

    def describe(self) -> str:
        return f"vault 'jsonfile' ({self.path})"

    def fetch(self, name: str) -> Secret:
        secrets = self._read()
        if name not in secrets:
            raise NotFoundError(f"secret {name!r} not found in {self.describe()}")
        return Secret(secrets[name])

    def fetch_many(
        self, names: Iterable[str], *, jobs: int = 8
    ) -> dict[str, Secret | EnvdriftError]:
        # One read answers every name; the default would read the file once per name.
        try:
            secrets = self._read()
        except EnvdriftError as exc:
            return dict.fromkeys(names, exc)
        return {
            name: Secret(secrets[name])
            if name in secrets
            else NotFoundError(f"secret {name!r} not found in {self.describe()}")
            for name in names
        }

    def store(self, name: str, value: Secret) -> None:
        if not name:
            raise ConfigError("vault 'jsonfile' cannot store a secret with an empty name")
        try:
            with self._locked():
                secrets = self._read()
                secrets[name] = value.reveal()
                self._write(secrets)
        except PermissionError:
            raise PermissionDeniedError(
                f"cannot write {self.describe()}: permission denied"
            ) from None

    def list(self, prefix: str = "") -> list[str]:
        return sorted(name for name in self._read() if name.startswith(prefix))

    def check(self) -> None:
        if not self.path.is_file():
            raise NotFoundError(
                f"{self.describe()}: the file does not exist; storing a secret creates it"
            )
        self._read()  # raises when the file is unreadable or malformed

    # -- the file -------------------------------------------------------------------

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except PermissionError:
            raise PermissionDeniedError(
                f"cannot read {self.describe()}: permission denied"
            ) from None
        except UnicodeDecodeError:
            raise FormatError(f"{self.path} is not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            # `from None`: the decode error carries the whole file (every secret) in
            # its `doc` attribute, and a traceback must not print it.
            raise FormatError(
                f"{self.path} line {exc.lineno}: not valid JSON ({exc.msg}); "
                "fix the file or restore it from a backup"
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise FormatError(
                f'{self.path} must hold one JSON object of strings, like {{"name": "value"}}'
            )
        return data

    def _write(self, secrets: dict[str, str]) -> None:
        # Write a temporary file beside the real one, then rename it over the old one:
        # a reader sees the old secrets or the new ones, never half a file.
        data = json.dumps(secrets, indent=2, sort_keys=True).encode("utf-8") + b"\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Read-modify-write needs one writer at a time: threads of this process (the
        # thread lock) and other envdrift processes (the lock file beside the secrets).
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(f"{self.path}.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            yield
