"""Finding the private key that opens an env file.

dotenvx 2.x collects every candidate (each ``DOTENV_PRIVATE_KEY*`` environment variable
and every ``DOTENV_PRIVATE_KEY*`` line of ``.env.keys``, comma lists split) and picks
the one whose public key equals the file's ``DOTENV_PUBLIC_KEY*``; names don't matter.
1.x looked keys up by name instead. We do the 2.x match first and keep the 1.x habits
as fallbacks: a comma list in an environment variable is split too, ``.env.keys`` is
looked for both next to the env file and in the current directory, and when nothing
matches by public key the candidate named after the file is tried first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envdrift._suggest import counted
from envdrift.dotenvx.crypto import normalize_public_key, public_key_of
from envdrift.dotenvx.keysfile import KeysFile
from envdrift.dotenvx.suffix import PRIVATE_KEY_NAME
from envdrift.errors import FormatError
from envdrift.secrets import Secret

if TYPE_CHECKING:
    from envdrift.dotenvx.envfile import EnvFile

__all__ = ["Candidate", "Keyring", "file_public_key", "keys_file_locations"]

KEYS_FILE_NAME = ".env.keys"


def file_public_key(env: EnvFile) -> str | None:
    """The file's ``DOTENV_PUBLIC_KEY*`` in canonical form, or ``None`` when it has none
    or it is malformed (then every key is tried; the values decide)."""
    found = env.public_key()
    if found is None:
        return None
    try:
        return normalize_public_key(found[1])
    except FormatError:
        return None


@dataclass(frozen=True)
class Candidate:
    """A private key that might open a file, and where it came from.

    Attributes:
        key: The private key.
        name: The variable or line name it was found under.
        source: Where it was found, for messages (``environment`` or a file path).
        public_key: Its compressed public key, or ``None`` if it is not a valid key.
    """

    key: Secret
    name: str
    source: str
    public_key: str | None

    @property
    def label(self) -> str:
        """``NAME (source)``, for messages; never the key itself."""
        return f"{self.name} ({self.source})"


def keys_file_locations(env_path: Path, keys_file: Path | None = None) -> list[Path]:
    """Return where to look for ``.env.keys`` for ``env_path``, in order.

    An explicit ``keys_file`` is the only place. Otherwise: next to the env file (where
    dotenvx's ``get`` and ``run`` look, and where envdrift writes), then the current
    directory (where dotenvx's ``encrypt`` and ``decrypt`` look) when that differs.
    """
    if keys_file is not None:
        return [keys_file]
    beside = env_path.parent / KEYS_FILE_NAME
    here = Path(KEYS_FILE_NAME)
    places = [beside]
    if os.path.abspath(here) != os.path.abspath(beside):
        places.append(here)
    return places


@dataclass
class Keyring:
    """Every candidate private key, and what was looked at to find them.

    Attributes:
        candidates: In discovery order: environment variables, then keys files.
        looked_at: Human descriptions of each place searched (for error messages).
    """

    candidates: list[Candidate] = field(default_factory=list)
    looked_at: list[str] = field(default_factory=list)

    @classmethod
    def gather(
        cls,
        env_path: Path,
        *,
        keys_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Keyring:
        """Collect candidates for ``env_path`` from ``environ`` and the keys file(s).

        Raises:
            FormatError: a keys file exists but cannot be read.
        """
        ring = cls()
        ring.add_environment(os.environ if environ is None else environ)
        ring.add_keys_files(env_path, keys_file=keys_file)
        return ring

    def add_environment(self, environ: Mapping[str, str]) -> None:
        """Add every ``DOTENV_PRIVATE_KEY*`` variable of ``environ`` (comma lists split)."""
        names = sorted(n for n in environ if n.startswith(PRIVATE_KEY_NAME))
        self.looked_at.append(
            "environment ($" + ", $".join(names) + ")"
            if names
            else "environment (no $DOTENV_PRIVATE_KEY*)"
        )
        for name in names:
            for part in environ[name].split(","):
                self._add(Secret(part.strip()), name, "environment")

    def add_keys_files(self, env_path: Path, *, keys_file: Path | None = None) -> None:
        """Add the keys of the keys file(s) for ``env_path`` (``keys_file_locations``).

        Raises:
            FormatError: a keys file exists but cannot be read.
        """
        for place in keys_file_locations(env_path, keys_file):
            if not place.exists():
                self.looked_at.append(f"{place} (missing)")
                continue
            keys = KeysFile.read(place)
            found = keys.named_candidates()
            self.looked_at.append(f"{place} ({counted(len(found), 'key')})")
            for name, secret in found:
                self._add(secret, name, str(place))

    def add(self, key: Secret, name: str, source: str) -> None:
        """Add one candidate found elsewhere (a vault), unless it is already known."""
        self.looked_at.append(source)
        self._add(key, name, source)

    def _add(self, key: Secret, name: str, source: str) -> None:
        if not key or any(c.key == key for c in self.candidates):
            return
        try:
            public = public_key_of(key)
        except FormatError:
            public = None
        self.candidates.append(Candidate(key, name, source, public))

    def invalid(self) -> list[Candidate]:
        """Return the candidates that are not valid private keys."""
        return [c for c in self.candidates if c.public_key is None]

    def ordered_for(self, public_key: str | None, preferred_name: str | None) -> list[Candidate]:
        """Return valid candidates, best first.

        The key whose public key is ``public_key`` comes first (the 2.x rule); then
        those named ``preferred_name`` (the 1.x rule); then the rest, so a file whose
        public-key line is stale or missing still opens.
        """
        valid = [c for c in self.candidates if c.public_key is not None]

        def rank(candidate: Candidate) -> int:
            if public_key is not None and candidate.public_key == public_key:
                return 0
            return 1 if candidate.name == preferred_name else 2

        return sorted(valid, key=rank)

    def matching(self, public_key: str) -> Candidate | None:
        """Return the first candidate whose public key is ``public_key``."""
        return next((c for c in self.candidates if c.public_key == public_key), None)
