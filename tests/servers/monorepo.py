"""A scratch monorepo of N services for sync runs under faults (tests and benchmarks).

Each service folder gets one mapping and one known private key; ``wrong()`` lists the
folders whose ``.env.keys`` does not hold exactly the expected key. ``KillTree`` also
knows each file's old and new bytes, for kill tests. Nothing here imports an SDK:
seeding the vault is the caller's business (each backend its own way).
"""

from __future__ import annotations

import hashlib
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.servers.proxy import TcpProxy

__all__ = [
    "AFTER",
    "BEFORE",
    "KEY_LINE",
    "MIDDLE",
    "Interrupted",
    "KillTree",
    "ScratchRepo",
    "interrupt_hung_sync",
    "make_key",
]

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


#: Where a kill landed, judged from the folders' states afterwards.
BEFORE, MIDDLE, AFTER = "before any write", "mid-write", "after the last write"


class KillTree(ScratchRepo):
    """A ``ScratchRepo`` on the ``files`` vault for kill tests: every byte is predictable.

    Even-numbered folders start with a ``.env.keys`` holding an older key (``sync
    --force`` replaces it after a backup), odd ones with none (``sync`` creates it).
    ``old`` and ``new`` hold each folder's keys file before and after a complete run
    (``None``: no file).
    """

    def __init__(self, root: Path, count: int) -> None:
        root.mkdir(parents=True)
        super().__init__(root, "kill", count)
        from envdrift.dotenvx.keysfile import KeysFile
        from envdrift.secrets import Secret

        self.old: dict[str, bytes | None] = {}
        self.new: dict[str, bytes] = {}
        self.files_checked = 0
        secrets = root / "secrets"
        secrets.mkdir()
        for index, (name, key) in enumerate(self.keys.items()):
            (secrets / name).write_text(key)
            path = self.keys_file(name)
            old: bytes | None = None
            if index % 2 == 0:
                stale = make_key(f"stale-{index}")
                old = f"# kept\nDOTENV_PRIVATE_KEY_PRODUCTION={stale}\nOTHER=1\n".encode()
                path.write_bytes(old)
            self.old[name] = old
            keys = KeysFile(path, old.decode() if old else "")
            keys.set("DOTENV_PRIVATE_KEY_PRODUCTION", Secret(key), comment=".env.production")
            self.new[name] = keys.render()
        self.write_config("files", 'path = "secrets"')

    def violations(self) -> list[str]:
        """Every way the tree is not "each file old or new": torn, empty, bad backups."""
        found = []
        self.files_checked = 0
        for name, folder in self.folders.items():
            path = self.keys_file(name)
            self.files_checked += 1
            data = path.read_bytes() if path.exists() else None
            if data not in (self.old[name], self.new[name]):
                what = "empty" if data == b"" else "neither the old nor the new content"
                found.append(f"{folder}/.env.keys is {what}")
            for backup in (self.root / folder).glob(".env.keys.backup.*"):
                self.files_checked += 1
                if backup.read_bytes() != self.old[name]:
                    found.append(f"{backup.relative_to(self.root)} is not the old content")
                if stat.S_IMODE(backup.stat().st_mode) != 0o600:
                    found.append(f"{backup.relative_to(self.root)} is not mode 0600")
            written = data is not None and data == self.new[name]
            if written and stat.S_IMODE(path.stat().st_mode) != 0o600:
                found.append(f"{folder}/.env.keys is not mode 0600")
        return found

    def state(self) -> str:
        """Where a kill landed: before any write, in the middle of them, or after the last."""
        written = [
            self.keys_file(n).exists() and self.keys_file(n).read_bytes() == self.new[n]
            for n in self.keys
        ]
        if not any(written):
            return BEFORE
        return AFTER if all(written) else MIDDLE

    def temp_files(self) -> list[Path]:
        """Temporary files (``.envdrift-tmp-*``) anywhere under the root."""
        return sorted(self.root.rglob(".envdrift-tmp-*"))


@dataclass(frozen=True)
class Interrupted:
    """A sync run stopped by Ctrl-C: how long it took to exit after the signal, and what it said."""

    repo: ScratchRepo
    returncode: int
    seconds: float
    stdout: str
    stderr: str

    def check(self) -> None:
        """Exit 130 promptly (far below the 30 s a hung request may take), with the
        interrupted summary, no traceback and nothing written."""
        assert self.returncode == 130, self.stdout + self.stderr
        assert self.seconds < 5, f"{self.seconds:.1f} s: it waited for a hung request"
        assert "Traceback" not in self.stderr
        count = self.repo.count
        assert self.stdout.splitlines()[-1].startswith(
            f"{count} mappings: {count} error; interrupted"
        ), self.stdout
        assert self.repo.missing() == list(self.repo.keys)


def interrupt_hung_sync(
    repo: ScratchRepo,
    proxy: TcpProxy,
    env: dict[str, str],
    envdrift: Sequence[str] = (sys.executable, "-m", "envdrift"),
) -> Interrupted:
    """Run ``envdrift sync --ci`` (``envdrift`` is how to start it) through ``proxy``
    (which hangs every request, each allowed 30 s), send SIGINT once requests hang, and
    time the exit."""
    process = subprocess.Popen(
        [*envdrift, "sync", "--ci", "--timeout", "30", "-j", "4"],
        cwd=repo.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while proxy.stats.hangs < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # the worker threads are inside their requests now
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return Interrupted(repo, process.returncode, time.monotonic() - sent, out, err)
