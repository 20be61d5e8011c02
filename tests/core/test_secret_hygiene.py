"""Secret hygiene across the CLI: no key or plaintext leaks, modes, temporary files.

One scenario runs every command on a project with known secrets: encrypt, vault-push,
sync (create, verify, JSON, check-decryption, a mismatch, --force), decrypt
--verify-vault (passing and failing), decrypt in place, rotate, and errors with
``--debug`` tracebacks. Everything it produces is scanned for every private key and
every plaintext value it has seen: stdout, stderr, log records of every logger (SDKs
included) at DEBUG, tracebacks and exception messages, JSON documents, and the names of
all files in the project. The ``files`` vault keeps this test free of servers; the
backends' own tests check their messages (``VaultContract`` and ``envdrift_cli``'s scan).

Then: ``.env.keys`` and backups are 0600 whatever the umask, and plaintext is written
only where the user asked (the decrypted file, through a temporary file of mode 0600 in
its own folder that becomes it), never to the system temporary directory, never left.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from envdrift.cli import cli

from tests.core.sync_helpers import LatencyPlugin, registry_with
from tests.helpers import PRIVATE_KEY_SHAPE
from tests.servers.monorepo import make_key

MARKERS = [f"plaintext-{uuid.uuid4().hex}", f"pass word {uuid.uuid4().hex[:12]}"]

# -- recording file writes (an audit hook: what the process opened for writing) --------

_writes: list[str] = []
_recording = [False]


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not _recording[0]:
        return
    path, mode, flags = args
    if isinstance(path, int):
        return
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
    )
    if writing:
        _writes.append(os.fsdecode(path))  # type: ignore[arg-type]


sys.addaudithook(_audit)


@dataclass
class Captured:
    """Everything the scenario produced, to scan."""

    texts: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    secrets: set[str] = field(default_factory=set)

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))


class _Records(logging.Handler):
    def __init__(self, captured: Captured) -> None:
        super().__init__(logging.DEBUG)
        self.captured = captured
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.captured.add(f"log {record.name}", self.format(record))


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Capture every log record of every logger at DEBUG while the scenario runs."""
    result = Captured()
    handler = _Records(result)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield result
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@dataclass
class Scenario:
    root: Path
    captured: Captured
    runner: CliRunner = field(default_factory=CliRunner)

    def run(
        self, *args: str, expect: int | None = 0, secrets_ok: bool = False, obj: object = None
    ) -> Result:
        result = self.runner.invoke(cli, list(args), catch_exceptions=True, obj=obj)
        where = f"envdrift {' '.join(args)}"
        if not secrets_ok:
            self.captured.add(f"stdout of {where}", result.stdout)
        self.captured.add(f"stderr of {where}", result.stderr)
        if result.exc_info is not None and not isinstance(result.exception, SystemExit):
            kind, value, tb = result.exc_info
            text = "".join(traceback.format_exception(kind, value, tb))
            self.captured.add(f"traceback of {where}", text)
            self.captured.add(f"exception message of {where}", str(value))
        if expect is not None:
            assert result.exit_code == expect, f"{where}: {result.output}"
        self.collect()
        return result

    def collect(self) -> None:
        """Remember every private key on disk now (keys files, backups, the vault)."""
        for path in self.root.rglob("*"):
            if path.is_file() and (".env.keys" in path.name or "secrets" in path.parts):
                self.captured.secrets.update(
                    PRIVATE_KEY_SHAPE.findall(path.read_text(errors="replace"))
                )


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, captured: Captured) -> Scenario:
    root = tmp_path / "project"
    (root / "services" / "api").mkdir(parents=True)
    (root / "secrets").mkdir()
    (root / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n\n[vault.files]\npath = "secrets"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "api-key"\nfolder_path = "services/api"\n'
    )
    (root / "services" / "api" / ".env.production").write_text(
        f'API_TOKEN="{MARKERS[0]}"\nDB_PASSWORD="{MARKERS[1]}"\n'
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmpdir"))
    (tmp_path / "tmpdir").mkdir()
    return Scenario(root, captured)


def test_no_secret_reaches_any_output_log_traceback_or_file_name(scenario: Scenario) -> None:
    api = scenario.root / "services" / "api"
    env = "services/api/.env.production"
    run = scenario.run
    run("encrypt", env)
    run("vault-push")
    (api / ".env.keys").unlink()
    run("sync")
    run("sync", "--verify")
    run("--debug", "sync", "--format", "json")
    run("sync", "--check-decryption")
    run("decrypt", "--verify-vault", env)
    # The vault now holds another key: a mismatch, drift, then --force with a backup.
    other = make_key(f"other-{uuid.uuid4()}")
    (scenario.root / "secrets" / "api-key").write_text(other)
    run("sync", expect=1)
    run("sync", "--verify", "--format", "json", expect=1)
    run("--debug", "decrypt", "--verify-vault", env, expect=1)
    run("--debug", "sync", "--force", "--check-decryption", "--format", "json", expect=1)
    # Values in shapes that are refused: the message describes them, never quotes them.
    for bad in (other + "zz", f"DOTENV_PRIVATE_KEY_STAGING={other}", '{"value": 42}'):
        (scenario.root / "secrets" / "api-key").write_text(bad)
        run("--debug", "sync", "--force", expect=1)
    # --force --check-decryption kept the working local key (the vault's opens nothing).
    assert not list(api.glob(".env.keys.backup.*"))
    keys_text = (api / ".env.keys").read_text()
    (api / ".env.keys").write_text(keys_text)
    shown = run("decrypt", "--stdout", env, secrets_ok=True)  # printing plaintext is its job
    assert MARKERS[0] in shown.stdout  # (so the scan below would see such a leak)
    run("decrypt", env)
    run("encrypt", env)
    (scenario.root / "secrets" / "api-key").write_text(PRIVATE_KEY_SHAPE.findall(keys_text)[0])
    run("rotate", env)
    run("--debug", "rotate", env, "--secret", "no/such/../secret", expect=None)
    run("--debug", "sync", "-c", "missing.toml", expect=None)  # --debug: a traceback
    # A vault that fails transiently: retries are logged (the test plugin's "down-" names).
    (scenario.root / "slow.toml").write_text(
        '[vault]\nprovider = "slow"\n\n[vault.slow]\npath = "secrets"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "down-api-key"\nfolder_path = "services/api"\n'
    )
    slow = {"registry": registry_with(LatencyPlugin())}
    run("--debug", "sync", "-c", "slow.toml", "--retries", "1", expect=1, obj=slow)

    needles = {s.lower() for s in scenario.captured.secrets}
    needles |= {s.upper() for s in needles}
    needles |= set(MARKERS)
    assert len(scenario.captured.secrets) >= 3  # the generated key, the rotated one, `other`
    leaks = [
        where for where, text in scenario.captured.texts for needle in needles if needle in text
    ]
    assert leaks == []
    names = [p.name for p in scenario.root.rglob("*")]
    assert not any(needle in name for name in names for needle in needles)
    # The scan saw what it should: debug logs and tracebacks were there to be scanned.
    kinds = {where.split(" ", 1)[0] for where, _ in scenario.captured.texts}
    assert {"stdout", "stderr", "log", "traceback", "exception"} <= kinds


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_keys_files_and_backups_are_0600_whatever_the_umask(scenario: Scenario, umask: int) -> None:
    api = scenario.root / "services" / "api"
    old = os.umask(umask)
    try:
        scenario.run("encrypt", "services/api/.env.production")
        keys = api / ".env.keys"
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        scenario.run("vault-push")
        keys.chmod(0o644)  # as a careless copy left it
        (scenario.root / "secrets" / "api-key").write_text(make_key(f"new-{umask}"))
        scenario.run("sync", "--force")
        (backup,) = api.glob(".env.keys.backup.*")
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_plaintext_is_written_only_to_the_file_asked_for(
    scenario: Scenario, tmp_path: Path
) -> None:
    env = "services/api/.env.production"
    target = scenario.root / env
    scenario.run("encrypt", env)
    scenario.run("vault-push")
    _writes.clear()
    _recording[0] = True
    try:
        scenario.run("sync", "--check-decryption")
        scenario.run("decrypt", "--verify-vault", env)
        in_memory = list(_writes)
        _writes.clear()
        scenario.run("decrypt", env)
        decrypting = list(_writes)
    finally:
        _recording[0] = False
    # Checking decryption writes nothing at all: it decrypts in memory.
    assert in_memory == []
    # Decrypting writes one temporary file next to the target, which becomes it.
    assert len(decrypting) == 1, decrypting
    temporary = Path(decrypting[0])
    assert temporary.parent == target.parent
    assert temporary.name.startswith(".envdrift-tmp-")
    assert not temporary.exists()
    assert MARKERS[0] in target.read_text()
    assert list((tmp_path / "tmpdir").iterdir()) == []
