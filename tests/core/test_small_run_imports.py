"""A small run imports only what it uses: a one-mapping ``sync`` of the ``files`` vault.

Most runs sync one or two folders, so their time is start-up: every module imported on
every run but used only on a rare path (a did-you-mean, a git work tree, a temporary
file's random name) is paid for by everyone. These tests watch ``sys.modules`` after a
real run in a fresh interpreter; the figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from envdrift.dotenvx.keysfile import KEYS_HEADER

from tests.core.run_helpers import encrypted_file, keys_file, scrubbed_env
from tests.servers.monorepo import make_key

PROBE = """
import sys
from envdrift.cli import cli
try:
    cli(ARGS, prog_name="envdrift")
except SystemExit as exc:
    code = exc.code
print("\\n@@MODULES@@" + repr([code, sorted(sys.modules)]))
"""

#: Imported by nothing a one-mapping sync does outside a git work tree and without a
#: typo (json: only a JSON-shaped vault value needs it).
NOT_ON_A_SMALL_SYNC = ("subprocess", "difflib", "json", "tempfile", "shutil")

WRITES = """
import sys
from pathlib import Path
from envdrift._fs import atomic_write, backup_stamp, write_backup
from envdrift.gitsafety import protect
from envdrift.dotenvx.keysfile import update_keys_file
from envdrift.secrets import Secret

keys = Path(sys.argv[1])
atomic_write(keys, b"DOTENV_PRIVATE_KEY_PRODUCTION=" + b"ab" * 32 + b"\\n")
write_backup(keys, keys.read_bytes(), backup_stamp())
ci_key = Secret("cd" * 32)
update_keys_file(keys, lambda k: k.set("DOTENV_PRIVATE_KEY_CI", ci_key), root=keys.parent)
protect([keys])
print(repr(sorted(sys.modules)))
"""


def _project(root: Path, local_key: str | None) -> Path:
    """``root`` with one mapping from the ``files`` vault to ``services/app``."""
    (root / "secrets").mkdir(parents=True)
    (root / "secrets" / "app-key").write_text(make_key("vault") + "\n")
    (root / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n\n[vault.files]\npath = "secrets"\n\n'
        "[[vault.sync.mappings]]\n"
        'secret_name = "app-key"\nfolder_path = "services/app"\nenvironment = "production"\n'
    )
    app = root / "services" / "app"
    app.mkdir(parents=True)
    if local_key is not None:
        # dotenvx's own header: its comment lines hold backquotes.
        keys = f"{KEYS_HEADER}\n# .env.production\nDOTENV_PRIVATE_KEY_PRODUCTION={local_key}\n"
        (app / ".env.keys").write_text(keys)
    return app


def _modules_after(root: Path, *args: str) -> tuple[int, set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVDRIFT_", "DOTENV_"))}
    env["HOME"] = str(root)
    out = subprocess.run(
        [sys.executable, "-c", PROBE.replace("ARGS", repr(list(args)))],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    code, modules = ast.literal_eval(out.split("@@MODULES@@")[1])
    return code, set(modules)


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def test_a_sync_that_writes_a_keys_file_outside_git_imports_no_rare_path_module(
    tmp_path: Path,
) -> None:
    # The key differs, so --force replaces it: a backup and an atomic write, both
    # through temporary files; no .git above tmp_path, so git is never asked.
    root = tmp_path / "project"
    app = _project(root, local_key=make_key("stale"))
    assert not any((parent / ".git").exists() for parent in (root, *root.parents))
    code, modules = _modules_after(root, "sync", "--force")
    assert code == 0
    assert make_key("vault") in (app / ".env.keys").read_text()
    assert _loaded(modules, NOT_ON_A_SMALL_SYNC) == []


def test_a_sync_that_creates_the_keys_file_imports_no_rare_path_module(tmp_path: Path) -> None:
    root = tmp_path / "project"
    app = _project(root, local_key=None)
    code, modules = _modules_after(root, "sync")
    assert code == 0
    assert make_key("vault") in (app / ".env.keys").read_text()
    assert _loaded(modules, NOT_ON_A_SMALL_SYNC) == []


def test_writing_keys_files_imports_no_temp_file_module(tmp_path: Path) -> None:
    # Atomic writes and backups go through temporary files: created with os.open, not
    # tempfile (which imports shutil, random and the compression modules).
    keys = tmp_path / ".env.keys"
    out = subprocess.run(
        [sys.executable, "-c", WRITES, str(keys)], check=True, capture_output=True, text=True
    ).stdout
    assert _loaded(set(ast.literal_eval(out)), ("tempfile", "shutil", "random", "subprocess")) == []
    assert "DOTENV_PRIVATE_KEY_CI" in keys.read_text()


RUN_PROBE = """
import os, sys
def exec_instead(*args):
    print("@@MODULES@@" + repr(sorted(sys.modules)))
    sys.exit(0)
os.execvpe = exec_instead
from envdrift.cli import cli
cli(["run", "-f", ".env.production", "--", "true"], prog_name="envdrift")
"""


def test_run_with_the_key_in_the_keys_file_imports_no_rare_path_module(tmp_path: Path) -> None:
    # `run` precedes every command a developer types: repair commands (shlex, json),
    # git (subprocess) and file writes (tempfile) are not on its way.
    root = tmp_path / "project"
    app = _project(root, local_key=None)
    env_file = app / ".env.production"
    keys_file(app, env_file, encrypted_file(env_file, {"A": "1"}))
    out = subprocess.run(
        [sys.executable, "-c", RUN_PROBE],
        cwd=app,
        env=scrubbed_env(root),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    modules = set(ast.literal_eval(out.split("@@MODULES@@")[1]))
    assert "envdrift.dotenvx.crypto" in modules  # it did decrypt
    rare = ("json", "shlex", "subprocess", "tempfile", "shutil")
    assert _loaded(modules, rare) == []
