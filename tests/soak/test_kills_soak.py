"""Soak: SIGKILL ``envdrift sync`` at random moments; no file may ever be torn.

A scratch monorepo of ``--mappings`` folders (200 by default) syncs from the ``files``
vault (local, so the run is all file work, where a kill can tear something). Half of the
folders start with a ``.env.keys`` holding an older key (``--force`` replaces it, after
a backup), half with none (created). Each round starts ``envdrift sync --force --ci`` in
a fresh process and kills it with SIGKILL after a random delay drawn over the span of a
whole run, then checks every folder:

* ``.env.keys`` is absent (created ones only), or exactly the old bytes, or exactly the
  new bytes: never empty, never partly written, never a mix;
* every backup holds exactly the old bytes, mode 0600;
* a later, unkilled run succeeds, leaves every key right and no temporary file behind.

It counts where each kill landed: before any write, in the middle of the writes (some
folders old, some new), or after the last write. Figures: kills, kills mid-write,
files checked, violations (must be 0).

Opt-in (``-m soak``): ``nox -s soak``, or ``.venv/bin/python -m pytest tests/soak -m soak -s``
to see the figures. ``SOAK_MAPPINGS`` (200), ``SOAK_KILLS`` (100) and
``SOAK_SEED`` (1) change its size. ``tests/core/test_interruptions.py`` runs a
small version in every test run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers.monorepo import KillTree

pytestmark = pytest.mark.soak


def run_sync(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    envdrift = Path(sys.executable).with_name("envdrift")
    return subprocess.Popen(
        [str(envdrift), "sync", "--force", "--ci"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_no_kill_tears_a_file(tmp_path: Path) -> None:
    mappings = int(os.environ.get("SOAK_MAPPINGS", "200"))
    kills = int(os.environ.get("SOAK_KILLS", "100"))
    rng = random.Random(int(os.environ.get("SOAK_SEED", "1")))
    scratch = tmp_path
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVDRIFT_", "DOTENV_"))}
    env["HOME"] = str(scratch)
    # Calibrate: when, after the start, does a run write its files? A written keys
    # file's mtime is the moment its new content was written.
    windows = []
    for attempt in range(3):
        tree = KillTree(scratch / f"calibrate-{attempt}", mappings)
        started = time.time()
        code = run_sync(tree.root, env).wait()
        assert code == 0, f"an unkilled run exited {code}; see the tree in {tree.root}"
        assert not tree.violations(), tree.violations()
        assert not tree.wrong(), f"an unkilled run left keys wrong in {tree.root}"
        times = [tree.keys_file(name).stat().st_mtime - started for name in tree.keys]
        windows.append((min(times), max(times), time.time() - started))
    first = min(w[0] for w in windows)
    last = max(w[1] for w in windows)
    whole = max(w[2] for w in windows)
    # Kill anywhere in the run, but mostly around the writes, where it can hurt.
    margin = max(0.05, (last - first) / 2)
    print(
        f"SIGKILL during envdrift sync --force of {mappings} mappings (files "
        f"vault; half the keys files replaced after a backup, half created); a run takes "
        f"{whole:.2f} s here and writes between {first:.2f} s and {last:.2f} s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    landed = {"before any write": 0, "mid-write": 0, "after the last write": 0}
    violations: list[str] = []
    checked = 0
    leftovers = 0
    for round_ in range(kills):
        tree = KillTree(scratch / f"round-{round_}", mappings)
        process = run_sync(tree.root, env)
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, whole))
        else:
            time.sleep(max(0.0, rng.uniform(first - margin, last + margin)))
        process.send_signal(signal.SIGKILL)
        process.wait()
        found = tree.violations()
        violations += [f"round {round_}: {v}" for v in found]
        checked += tree.files_checked
        state = tree.state()
        landed[state] += 1
        leftovers += len(tree.temp_files())
        # A later run must finish the job and clean up after the killed one.
        code = run_sync(tree.root, env).wait()
        if code != 0:
            violations.append(f"round {round_}: the run after the kill exited {code}")
        if tree.wrong():
            violations.append(f"round {round_}: keys still wrong after a later run")
        if tree.temp_files():
            violations.append(f"round {round_}: temporary files left after a later run")
        violations += [f"round {round_} (after): {v}" for v in tree.violations()]
        shutil.rmtree(tree.root)
    print(
        f"  kills: {kills} ({', '.join(f'{n} {k}' for k, n in landed.items())})\n"
        f"  files checked after kills: {checked}; temporary files the kills left: "
        f"{leftovers} (each removed by the next run)\n"
        f"  violations (torn, empty, wrong backup, failed recovery): {len(violations)}"
    )
    assert violations == []
