"""A scratch monorepo of N services for sync runs under faults (tests and benchmarks).

Each service folder gets one mapping and one known private key; ``wrong()`` lists the
folders whose ``.env.keys`` does not hold exactly the expected key, and ``torn()`` the
keys files that are neither absent, nor the old content, nor the new one. Nothing here
imports an SDK: seeding the vault is the caller's business (each backend its own way).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KEY_LINE", "ScratchRepo", "make_key"]

#: ``DOTENV_PRIVATE_KEY_PRODUCTION=<64 hex>`` as a line of a keys file.
KEY_LINE = re.compile(r"^DOTENV_PRIVATE_KEY_PRODUCTION=([0-9a-f]{64})$", re.MULTILINE)


def make_key(seed: str) -> str:
    """A valid dotenvx private key (64 lower-case hex below the curve order) for ``seed``."""
    return hashlib.sha256(seed.encode()).hexdigest()


@dataclass
class ScratchRepo:
    """``count`` services under ``root/services``, mapped to secrets ``<prefix>-NNN-key``.

    Attributes:
        root: The project root (``envdrift.toml`` goes here).
        keys: Secret name -> the private key the vault holds for it.
        folders: Secret name -> the service folder (relative to ``root``).
    """

    root: Path
    prefix: str
    count: int
    keys: dict[str, str] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index in range(self.count):
            name = f"{self.prefix}-{index:03d}-key"
            folder = f"services/svc-{index:03d}"
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            self.keys[name] = make_key(f"{self.prefix}-{index}")
            self.folders[name] = folder

    def write_config(self, provider: str, table: str = "", vault: str = "") -> Path:
        """Write ``envdrift.toml``: ``[vault]`` (plus ``vault``), ``[vault.<provider>]``
        holding ``table``, and one mapping per service."""
        lines = ["[vault]", f'provider = "{provider}"', vault, "", f"[vault.{provider}]", table]
        for name, folder in self.folders.items():
            lines += ["", "[[vault.sync.mappings]]"]
            lines += [f'secret_name = "{name}"', f'folder_path = "{folder}"']
        path = self.root / "envdrift.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def keys_file(self, name: str) -> Path:
        return self.root / self.folders[name] / ".env.keys"

    def wrong(self, names: Iterable[str] | None = None) -> list[str]:
        """The secrets whose folder's keys file does not hold exactly their key."""
        bad = []
        for name in names if names is not None else self.keys:
            path = self.keys_file(name)
            found = KEY_LINE.findall(path.read_text()) if path.exists() else []
            if found != [self.keys[name]]:
                bad.append(name)
        return bad

    def missing(self) -> list[str]:
        """The secrets whose folder has no keys file at all."""
        return [name for name in self.keys if not self.keys_file(name).exists()]

    def stray_files(self) -> list[Path]:
        """Anything in a service folder besides ``.env.keys`` (temporary files, say)."""
        return sorted(
            path
            for folder in self.folders.values()
            for path in (self.root / folder).iterdir()
            if path.name != ".env.keys"
        )
