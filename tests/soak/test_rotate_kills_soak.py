"""Soak: SIGKILL ``envdrift rotate`` at random moments; every state is named and repaired.

A project with one encrypted ``.env.production`` whose key is in ``.env.keys`` and in
a vault. The vault is the ``command`` vault running a small script that takes 0.2 s
per request (as a real secret manager's CLI does), so a kill often lands between the
vault store and the local writes. Each round copies the project fresh, starts
``envdrift rotate`` in a new process and kills it with SIGKILL after a random delay
drawn over a whole rotation's span (a request already running completes, as it would
on a real server). Then the repair docs/resilience.md gives:

1. ``envdrift sync --force --check-decryption``: installs the vault's key when it opens
   the file (killed between the two local writes), keeps the local key and says so
   when it does not (killed after the vault store);
2. only when 1 kept the local key: ``envdrift vault-push --force``.

After that, ``envdrift sync --verify --check-decryption`` must pass and ``envdrift
decrypt --stdout`` must print the original values: nothing is ever unrecoverable.

Figures (printed; run with ``-s``): kills, where they landed (nothing changed, vault
ahead, keys file behind, finished), repairs needed, failures (must be 0).

Opt-in (``-m soak``): ``nox -s soak``, or ``.venv/bin/python -m pytest tests/soak -m soak -s``.
``SOAK_ROTATE_KILLS`` (40) and ``SOAK_SEED`` (1) change its size.
"""

from __future__ import annotations

import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from envdrift.dotenvx.crypto import public_key_of
from envdrift.dotenvx.envfile import EnvFile
from envdrift.dotenvx.keysfile import KeysFile
from envdrift.secrets import Secret

pytestmark = pytest.mark.soak

KILLS = int(os.environ.get("SOAK_ROTATE_KILLS", "40"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
ENVDRIFT = [sys.executable, "-m", "envdrift"]
ENV_FILE = "app/.env.production"
PLAIN = "TOKEN=tok-123\nURL='postgres://db/app'\n"
CONFIG = """\
[vault]
provider = "command"

[vault.command]
fetch = [{python}, "vault.py", "fetch", "{{secret}}"]
store = [{python}, "vault.py", "store", "{{secret}}"]

[[vault.sync.mappings]]
secret_name = "app-key"
folder_path = "app"
environment = "production"
"""


#: The secret manager's CLI: one file per secret under vault/, 0.2 s per request.
VAULT_SCRIPT = """\
import os, pathlib, sys, time
time.sleep(0.2)
action, name = sys.argv[1], sys.argv[2]
path = pathlib.Path("vault") / name
if action == "fetch":
    if not path.exists():
        sys.exit("secret not found")
    sys.stdout.write(path.read_text())
else:
    path.with_suffix(".tmp").write_text(sys.stdin.read())
    os.replace(path.with_suffix(".tmp"), path)
"""


def envdrift(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ENVDRIFT, *args], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )


def template(root: Path) -> Path:
    root.mkdir()
    (root / "envdrift.toml").write_text(CONFIG.format(python=f'"{sys.executable}"'))
    (root / "vault.py").write_text(VAULT_SCRIPT)
    (root / "vault").mkdir()
    (root / "app").mkdir()
    (root / ENV_FILE).write_text(PLAIN)
    assert envdrift(root, "encrypt", ENV_FILE).returncode == 0
    assert envdrift(root, "vault-push").returncode == 0
    return root


def where_it_landed(root: Path, before: tuple[bytes, bytes, str]) -> str:
    env, keys = (root / ENV_FILE).read_bytes(), (root / "app/.env.keys").read_bytes()
    vault = (root / "vault/app-key").read_text()
    if (env, keys, vault) == before:
        return "nothing changed"
    found = EnvFile.read(root / ENV_FILE).public_key()
    public = found[1].strip().lower() if found else ""
    local = KeysFile.read(root / "app/.env.keys").get("DOTENV_PRIVATE_KEY_PRODUCTION")
    opens_locally = local is not None and public_key_of(local) == public
    if opens_locally and local is not None and local.reveal() == vault:
        return "finished"
    if env == before[0]:
        return "vault ahead of both files"
    if public_key_of(Secret(vault)) == public:
        return "keys file behind"
    return "unexpected"


def test_rotate_killed_anywhere_is_named_and_repaired(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    base = template(tmp_path / "template")
    app = base / "app"
    before = ((app / ".env.production").read_bytes(), (app / ".env.keys").read_bytes())
    timed = time.monotonic()
    trial = tmp_path / "timing"
    shutil.copytree(base, trial)
    assert envdrift(trial, "rotate", ENV_FILE).returncode == 0
    span = time.monotonic() - timed
    landed: collections.Counter[str] = collections.Counter()
    repairs = 0
    failures: list[str] = []
    for kill in range(KILLS):
        root = tmp_path / f"kill{kill}"
        shutil.copytree(base, root)
        vault_before = (root / "vault/app-key").read_text()
        process = subprocess.Popen(
            [*ENVDRIFT, "rotate", ENV_FILE],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0, span * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait()
        time.sleep(0.5)  # a vault request already running finishes, as on a server
        state = where_it_landed(root, (*before, vault_before))
        landed[state] += 1
        synced = envdrift(root, "sync", "--force", "--check-decryption")
        if synced.returncode != 0:
            if "the local key was kept" not in synced.stdout:
                failures.append(f"kill {kill} ({state}): sync said {synced.stdout.strip()!r}")
                continue
            repairs += 1
            envdrift(root, "vault-push", "--force")
        verified = envdrift(root, "sync", "--verify", "--check-decryption")
        shown = envdrift(root, "decrypt", ENV_FILE, "--stdout")
        if verified.returncode != 0 or not shown.stdout.endswith(PLAIN):
            failures.append(f"kill {kill} ({state}): not repaired: {verified.stdout.strip()!r}")
        shutil.rmtree(root)
    print(
        f"\nrotate SIGKILL soak: {KILLS} kills over a {span:.2f} s rotation; landed: "
        + ", ".join(f"{state} {count}" for state, count in sorted(landed.items()))
        + f"; needed vault-push --force: {repairs}; unrepaired: {len(failures)}"
    )
    assert landed["unexpected"] == 0
    assert failures == []
