"""Running the real dotenvx CLI from tests: where it is, and a clean way to call it.

The binary is ``$ENVDRIFT_DOTENVX``, else the one ``scripts/bootstrap.sh`` installs into
``.tools/dotenvx``. Tests that need it are marked ``dotenvx``; they skip when it is
missing on a developer's machine and fail under CI (``CI`` set), where it must be there.
dotenvx runs without a TTY, in a scrubbed environment (no inherited keys or config), with
the network key stores switched off, so it always keeps keys in ``.env.keys``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = REPO_ROOT / ".tools" / "dotenvx" / "node_modules" / ".bin" / "dotenvx"

# Keep dotenvx away from the OS keychain, Armor (a network service), 1Password and
# Bitwarden, which it would otherwise try or offer.
_QUIET_ENV = {
    "DOTENVX_NO_ARMOR": "true",
    "DOTENVX_NO_NATIVE": "true",
    "DOTENVX_NO_1PASSWORD": "true",
    "DOTENVX_NO_BITWARDEN": "true",
}


def dotenvx_binary() -> Path | None:
    """Return the dotenvx CLI to test against, or ``None`` when it is not installed."""
    configured = os.environ.get("ENVDRIFT_DOTENVX")
    candidate = Path(configured) if configured else DEFAULT_BINARY
    return candidate if candidate.exists() else None


@dataclass(frozen=True)
class DotenvxCli:
    """The real dotenvx CLI.

    Attributes:
        binary: Its path.
        home: A private HOME for it.
    """

    binary: Path
    home: Path

    @property
    def node_modules(self) -> Path:
        """The ``node_modules`` folder the CLI was installed into."""
        return next(p for p in self.binary.resolve().parents if p.name == "node_modules")

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``dotenvx ARGS`` in ``cwd`` with a scrubbed environment plus ``env``."""
        node_dir = os.path.dirname(shutil.which("node") or "/usr/bin/node")
        environment = {
            "PATH": os.pathsep.join([node_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "LANG": "C.UTF-8",
            **_QUIET_ENV,
            **(env or {}),
        }
        raw = subprocess.run(
            [str(self.binary), *args],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )
        # Decoded by hand: text=True would turn CRLF into LF and hide line endings.
        result = subprocess.CompletedProcess(
            raw.args, raw.returncode, raw.stdout.decode("utf-8"), raw.stderr.decode("utf-8")
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"dotenvx {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
            )
        return result


def require_dotenvx(home: Path) -> DotenvxCli:
    """Return the CLI, skipping (developer machine) or failing (CI) when it is missing."""
    binary = dotenvx_binary()
    if binary is None:
        message = (
            "the dotenvx CLI is missing: run scripts/bootstrap.sh or set ENVDRIFT_DOTENVX "
            f"(looked for {os.environ.get('ENVDRIFT_DOTENVX') or DEFAULT_BINARY})"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return DotenvxCli(binary, home)
