"""Kills, Ctrl-C and concurrent runs: files are old or new, never torn; no update is lost.

The kill and concurrency tests run the real CLI in fresh processes on the ``files``
vault (so a run is mostly file work, where a kill could tear something). Counts are
small here; ``tests/soak/test_kills_soak.py`` (``nox -s soak``) kills hundreds of runs
of 200 mappings.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from envdrift import FormatError
from envdrift._fs import (
    TEMP_PREFIX,
    atomic_write,
    backups_of,
    locked,
    remove_abandoned_temp_files,
    write_backup,
)
from envdrift.config import load_config
from envdrift.dotenvx.keysfile import KeysFile
from envdrift.session import open_vaults
from envdrift.sync import Outcome, SyncOptions, run_sync

from tests.core.sync_helpers import (
    KEY_A,
    KEY_B,
    KEY_C,
    LatencyPlugin,
    Project,
    keys_line,
    registry_with,
)
from tests.servers.monorepo import AFTER, BEFORE, MIDDLE, KillTree, make_key

REPO = Path(__file__).resolve().parents[2]
ENVDRIFT = [sys.executable, "-m", "envdrift"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVDRIFT_", "DOTENV_"))}
    env["HOME"] = str(home)
    return env


def _sync(root: Path, home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ENVDRIFT, "sync", "--ci", *args],
        cwd=root,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- SIGKILL -------------------------------------------------------------------------------


def test_sigkill_at_random_moments_never_tears_a_file(tmp_path: Path) -> None:
    rng = random.Random(11)
    calibration = KillTree(tmp_path / "calibrate", 30)
    started = time.time()
    done = _sync(calibration.root, tmp_path, "--force")
    assert done.wait(timeout=120) == 0, done.communicate()
    assert calibration.violations() == []
    assert calibration.wrong() == []
    # When the run writes: a written file's mtime is the moment its content was written.
    written = [calibration.keys_file(n).stat().st_mtime - started for n in calibration.keys]
    first, last = min(written), max(written)
    landed = []
    for round_ in range(3):
        tree = KillTree(tmp_path / f"round-{round_}", 30)
        process = _sync(tree.root, tmp_path, "--force")
        time.sleep(max(0.0, rng.uniform(first - 0.05, last + 0.02)))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert tree.violations() == [], f"round {round_}"
        landed.append(tree.state())
        # A later run completes the job and removes the killed run's temporary files.
        again = _sync(tree.root, tmp_path, "--force")
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, out + err
        assert tree.wrong() == []
        assert tree.violations() == []
        assert tree.temp_files() == []
    assert set(landed) <= {BEFORE, MIDDLE, AFTER}


def test_the_next_write_removes_temporary_files_of_dead_processes(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(dead.stdout)
    abandoned = tmp_path / f"{TEMP_PREFIX}{dead_pid}-abc123"
    mine = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-def456"  # another thread's, in flight
    unnamed_old = tmp_path / f"{TEMP_PREFIX}xyz"
    unnamed_new = tmp_path / f"{TEMP_PREFIX}uvw"
    for path in (abandoned, mine, unnamed_old, unnamed_new):
        path.write_text("partial")
    two_hours_ago = time.time() - 7200
    os.utime(unnamed_old, (two_hours_ago, two_hours_ago))
    atomic_write(tmp_path / ".env.keys", b"new\n")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([".env.keys", mine.name, unnamed_new.name])
    assert remove_abandoned_temp_files(tmp_path) == []


def test_a_temporary_file_is_0600_from_creation_and_named_for_its_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int]] = []
    real_replace = os.replace

    def spy(src: str, dst: Path) -> None:
        seen.append((src, os.stat(src).st_mode & 0o777))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    old_umask = os.umask(0)
    try:
        atomic_write(tmp_path / ".env.keys", b"k\n")
    finally:
        os.umask(old_umask)
    [(src, mode)] = seen
    assert mode == 0o600
    assert os.path.dirname(src) == str(tmp_path)  # same folder: the rename stays atomic
    assert os.path.basename(src).startswith(f"{TEMP_PREFIX}{os.getpid()}-")


def test_a_temporary_file_never_takes_a_name_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name already taken (by a planted file or a symlink) is skipped, never opened.
    outside = tmp_path / "outside"
    outside.write_text("keep")
    planted = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-{'00' * 8}"
    planted.symlink_to(outside)
    draws = iter([b"\0" * 8, b"\1" * 8])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    atomic_write(tmp_path / ".env.keys", b"new\n")
    assert (tmp_path / ".env.keys").read_bytes() == b"new\n"
    assert outside.read_text() == "keep"
    assert planted.is_symlink()


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()  # a directory cannot be replaced by a file
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path / "target", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["target"]


# -- backups -------------------------------------------------------------------------------


def test_backups_are_whole_0600_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / ".env.keys"
    old_umask = os.umask(0)
    try:
        made = [
            write_backup(path, f"v{i}\n".encode(), "20260101T000000Z", keep=3) for i in range(6)
        ]
    finally:
        os.umask(old_umask)
    kept = backups_of(path)
    assert kept == made[-3:]
    assert [p.read_text() for p in kept] == ["v3\n", "v4\n", "v5\n"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in kept)
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_keep_backups_bounds_a_sync_and_zero_writes_none(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    project = Project(tmp_path / "repo")
    app = project.service("app", keys=keys_line("production", KEY_C))
    project.map("app-key", "app")
    plugin = LatencyPlugin()
    for index in range(4):
        project.secret("app-key", make_key(f"round-{index}"))
        report = _run(project, plugin, force=True, keep_backups=2)
        assert [str(r.outcome) for r in report.results] == ["updated"]
    assert len(backups_of(app / ".env.keys")) == 2
    project.secret("app-key", KEY_A)
    _run(project, plugin, force=True, keep_backups=0)
    assert len(backups_of(app / ".env.keys")) == 2  # none added
    assert keys_line("production", KEY_A) in (app / ".env.keys").read_text()


# -- concurrent runs -------------------------------------------------------------------------


def _two_configs(root: Path, count: int) -> tuple[dict[str, str], dict[str, str]]:
    """Two configs mapping different secrets into the same folders (two environments)."""
    secrets = root / "secrets"
    secrets.mkdir(parents=True)
    production, staging = {}, {}
    for name, env, keys in (("prod", "production", production), ("stage", "staging", staging)):
        lines = ["[vault]", 'provider = "files"', "[vault.files]", 'path = "secrets"']
        for index in range(count):
            folder = f"svc-{index:02d}"
            (root / folder).mkdir(exist_ok=True)
            key = make_key(f"{name}-{index}")
            (secrets / f"{name}-{index}").write_text(key)
            keys[folder] = key
            lines += ["[[vault.sync.mappings]]", f'secret_name = "{name}-{index}"']
            lines += [f'folder_path = "{folder}"', f'environment = "{env}"']
        (root / f"{name}.toml").write_text("\n".join(lines) + "\n")
    return production, staging


def test_two_runs_at_once_lose_no_update(tmp_path: Path) -> None:
    for attempt in range(2):
        root = tmp_path / f"tree-{attempt}"
        production, staging = _two_configs(root, 20)
        runs = [_sync(root, tmp_path, "-c", f"{name}.toml") for name in ("prod", "stage")]
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, out + err
        for folder in production:
            keys = KeysFile.read(root / folder / ".env.keys")
            assert keys.get("DOTENV_PRIVATE_KEY_PRODUCTION").reveal() == production[folder]
            assert keys.get("DOTENV_PRIVATE_KEY_STAGING").reveal() == staging[folder]
            assert keys.names().count("DOTENV_PRIVATE_KEY_PRODUCTION") == 1


def test_the_same_run_twice_at_once_both_succeed(tmp_path: Path) -> None:
    tree = KillTree(tmp_path / "tree", 30)
    runs = [_sync(tree.root, tmp_path, "--force") for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, out + err
    assert tree.wrong() == []
    assert tree.violations() == []


def _run(
    project: Project,
    plugin: LatencyPlugin,
    progress: Callable[..., None] | None = None,
    **options: object,
) -> object:
    config = load_config(project.write_config(), project.root)
    registry = registry_with(plugin)
    with open_vaults(config, registry) as vaults:
        return run_sync(vaults, config.select(None), SyncOptions(**options), progress=progress)


def _writing_starts(action: Callable[[], None]) -> Callable[[str, int, int], None]:
    """A progress callback that runs ``action`` just before the first write."""

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "writing" and done == 0:
            action()

    return progress


def test_a_key_another_run_added_meanwhile_is_kept(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    project = Project(tmp_path / "repo")
    project.secret("app-key", KEY_A)
    app = project.service("app", keys=keys_line("production", KEY_C))
    project.map("app-key", "app")
    other = keys_line("staging", KEY_B)

    def other_run() -> None:
        path = app / ".env.keys"
        path.write_text(path.read_text() + other)

    report = _run(project, LatencyPlugin(), _writing_starts(other_run), force=True)
    assert [r.outcome for r in report.results] == [Outcome.UPDATED]
    assert (app / ".env.keys").read_text() == keys_line("production", KEY_A) + other


def test_a_key_another_run_already_wrote_is_unchanged(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    project = Project(tmp_path / "repo")
    project.secret("app-key", KEY_A)
    app = project.service("app", keys=keys_line("production", KEY_C))
    project.map("app-key", "app")

    def other_run() -> None:
        (app / ".env.keys").write_text(keys_line("production", KEY_A))

    report = _run(project, LatencyPlugin(), _writing_starts(other_run), force=True)
    assert [r.outcome for r in report.results] == [Outcome.UNCHANGED]
    assert (app / ".env.keys").read_text() == keys_line("production", KEY_A)


def test_the_lock_serialises_writers(tmp_path: Path) -> None:
    inside = []
    overlap = []

    def writer(index: int) -> None:
        for _ in range(20):
            with locked(tmp_path):
                inside.append(index)
                if len(inside) > 1:
                    overlap.append(tuple(inside))
                time.sleep(0.001)
                inside.remove(index)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlap == []


def test_a_lock_held_too_long_is_a_clear_error(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(tmp_path)!r}, os.O_RDONLY)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with (
            pytest.raises(FormatError, match=r"another envdrift has been writing in .* for over"),
            locked(tmp_path, timeout=0.2),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with locked(tmp_path, timeout=5):  # the kernel released it with the process
        pass


# -- Ctrl-C --------------------------------------------------------------------------------

#: ``python -c`` program: the real CLI with a slow vault (0.3 s a call) that says on
#: stderr when it starts each fetch, so the test knows when the run is under way.
SLOW_CLI = """
import sys
from envdrift.cli import cli
from tests.core.sync_helpers import LatencyPlugin, registry_with
plugin = LatencyPlugin(latency=0.3)
fetch = plugin.vault_class.fetch
def announced(self, name):
    print("fetching", name, file=sys.stderr, flush=True)
    return fetch(self, name)
plugin.vault_class.fetch = announced
cli.main(sys.argv[1:], prog_name="envdrift", obj={"registry": registry_with(plugin)})
"""


def test_ctrl_c_ends_the_run_promptly_with_a_partial_summary(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    project = Project(tmp_path / "repo")
    for index in range(12):
        project.secret(f"k{index}", make_key(f"k{index}"))
        project.service(f"s{index:02d}")
        project.map(f"k{index}", f"s{index:02d}")
    project.write_config()
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, "sync", "-j", "2", "--ci"],
        cwd=project.root,
        env={**_env(tmp_path), "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # blocks until the first fetch starts
    assert first.startswith("fetching"), first
    time.sleep(0.4)  # a few fetches later
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    stopped = time.monotonic() - sent
    assert process.returncode == 130, out + err
    assert stopped < 3  # calls in flight finish (0.3 s); queued ones never start
    lines = out.splitlines()
    assert lines[0].split() == ["FOLDER", "SECRET", "ENVIRONMENT", "OUTCOME", "REASON"]
    assert all("interrupted (Ctrl-C) while fetching" in line for line in lines[1:13])
    assert lines[-1].startswith("12 mappings: 12 error; interrupted (Ctrl-C)")
    assert not list(project.root.glob("s*/.env.keys"))  # nothing written
    assert "Traceback" not in err
    assert err.count("fetching") < 12  # the queued fetches never started
