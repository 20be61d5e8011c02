"""Building blocks for the sync tests: a scratch project, a latency vault, a test verifier.

The vaults here are ordinary plugins registered through ``PluginRegistry(plugins=[...])``,
the way a third-party backend is, so the engine is exercised through the same path.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envdrift import (
    DecryptionCheck,
    PermissionDeniedError,
    PluginRegistry,
    Secret,
    UnavailableError,
    Vault,
    VaultContext,
    hookimpl,
)
from envdrift.builtins.files import FilesVault
from envdrift.config import SyncMapping


def make_key(seed: str) -> str:
    """A valid private key (64 lower-case hex, inside the curve order) derived from ``seed``."""
    return hashlib.sha256(seed.encode()).hexdigest()


KEY_A = make_key("a")
KEY_B = make_key("b")
KEY_C = make_key("c")


class LatencyPlugin:
    """Provides the ``slow`` vault: the ``files`` vault plus latency and injected faults.

    * Every ``fetch`` sleeps ``latency`` seconds first (so concurrency shows in wall time).
    * A mapping's ``vault_name`` selects a subfolder of ``path`` (a vault-name backend).
    * Secrets named ``down-…`` raise ``UnavailableError``; ``denied-…`` raise
      ``PermissionDeniedError``; ``boom-…`` raise a ``RuntimeError`` (a plugin bug);
      ``echo-…`` raise a ``ValueError`` quoting the secret (an SDK echoing a body).

    The plugin instance records calls, the most calls in flight, instances and closes.
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.instances: list[Vault] = []
        self.closed = 0
        self._lock = threading.Lock()
        plugin = self

        class SlowVault(FilesVault):
            name = "slow"
            description = "files with latency (tests)"
            option_keys = frozenset({"path"})
            cli_options = {"vault_url": "path"}

            @classmethod
            def route(
                cls, mapping: SyncMapping, overrides: Mapping[str, Any]
            ) -> tuple[str | None, str]:
                if cls.address_overridden(mapping, overrides):
                    return None, mapping.secret_name
                return mapping.vault_name, mapping.secret_name

            def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
                super().__init__(options, context)
                if context.vault_name:
                    self.root = self.root / context.vault_name
                plugin.instances.append(self)

            def fetch(self, name: str) -> Secret:
                with plugin._track(name):
                    time.sleep(plugin.latency)
                    if name.startswith("down-"):
                        raise UnavailableError(f"{self.describe()} is not answering (test)")
                    if name.startswith("denied-"):
                        raise PermissionDeniedError(f"{self.describe()} refused {name!r} (test)")
                    if name.startswith("boom-"):
                        raise RuntimeError("plugin bug (test)")
                    if name.startswith("echo-"):  # an SDK error echoing a response body
                        body = super().fetch(name).reveal()
                        raise ValueError(f"cannot parse {{'value': '{body}'}}")
                    return super().fetch(name)

            def close(self) -> None:
                with plugin._lock:
                    plugin.closed += 1

        self.vault_class = SlowVault

    @contextmanager
    def _track(self, name: str) -> Iterator[None]:
        with self._lock:
            self.calls.append(name)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    @hookimpl
    def envdrift_register_vaults(self) -> list[type[Vault]]:
        return [self.vault_class]


def fake_public_key(private_key: str) -> str:
    """What ``FakeVerifier`` expects in ``DOTENV_PUBLIC_KEY_*``: not real crypto."""
    return "fake-" + hashlib.sha256(private_key.encode()).hexdigest()[:16]


class FakeVerifier:
    """An ``envdrift_verify_decryption`` plugin for files whose public key is ``fake-…``.

    A candidate from a mapping's folder is its own only when it names the fake public
    key of the mapping's environment. It records every call, so tests can prove which
    files were checked with which key.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    @hookimpl
    def envdrift_verify_decryption(
        self, path: Path, text: str, private_key: Secret, environment: str | None
    ) -> DecryptionCheck | None:
        name = (
            r"DOTENV_PUBLIC_KEY\w*"
            if environment is None
            else f"DOTENV_PUBLIC_KEY_{environment.upper()}"
        )
        match = re.search(rf'{name}="?(fake-[0-9a-f]+)', text)
        if match is None:
            return None
        with self._lock:
            self.seen.append((path.name, fake_public_key(private_key.reveal())))
        ok = match.group(1) == fake_public_key(private_key.reveal())
        values = re.findall(r'^(\w+)="encrypted:', text, re.MULTILINE)
        return DecryptionCheck(
            path=path,
            ok=ok,
            checked=len(values),
            failed=() if ok else tuple(values),
            key_matches=ok,
            reason="" if ok else "the key's public key differs from the file's",
        )


@dataclass
class Project:
    """A scratch monorepo: ``envdrift.toml``, a secrets folder for the vault, services."""

    root: Path
    provider: str = "slow"
    mappings: list[dict[str, Any]] = field(default_factory=list)
    sync_extra: str = ""

    def secret(self, name: str, value: str, vault_name: str | None = None) -> None:
        folder = self.root / "secrets" / (vault_name or "")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)

    def service(self, folder: str, keys: str | None = None) -> Path:
        path = self.root / folder
        path.mkdir(parents=True, exist_ok=True)
        if keys is not None:
            (path / ".env.keys").write_text(keys)
        return path

    def map(self, secret: str, folder: str, **extra: str) -> None:
        self.mappings.append({"secret_name": secret, "folder_path": folder, **extra})

    def write_config(self) -> Path:
        lines = [
            "[vault]",
            f'provider = "{self.provider}"',
            "",
            f"[vault.{self.provider}]",
            'path = "secrets"',
            "",
            "[vault.sync]",
            self.sync_extra,
        ]
        for mapping in self.mappings:
            lines += ["", "[[vault.sync.mappings]]"]
            lines += [f'{key} = "{value}"' for key, value in mapping.items()]
        path = self.root / "envdrift.toml"
        path.write_text("\n".join(lines) + "\n")
        return path


def registry_with(*plugins: object) -> PluginRegistry:
    """A fresh registry: the installed plugins plus ``plugins``."""
    return PluginRegistry(plugins=list(plugins))


def keys_line(environment: str, key: str) -> str:
    return f"DOTENV_PRIVATE_KEY_{environment.upper()}={key}\n"


def one_service_on_files(tmp_path: Path, mapping: str = "") -> Path:
    """``tmp_path/repo``, mapping secret ``api-key`` (``KEY_A`` in the files vault at
    ``tmp_path/vault``) to ``services/api``; ``mapping`` adds lines to the mapping."""
    root = tmp_path / "repo"
    (root / "services" / "api").mkdir(parents=True)
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "api-key").write_text(KEY_A)
    (root / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n\n[vault.files]\npath = "../vault"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "api-key"\nfolder_path = "services/api"\n' + mapping
    )
    return root
