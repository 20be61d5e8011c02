"""A small secret-manager CLI for the ``command`` vault's tests, and a config writer.

``fake-cli`` keeps secrets as files under ``./store`` (relative to its working directory,
which the vault sets to the config file's folder) and logs every run's arguments and
environment to ``./runs.jsonl``, so tests can prove what a value never touched.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.helpers import sync_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from click.testing import Result

FAKE_CLI = """\
import json, os, pathlib, subprocess, sys, time

here = pathlib.Path.cwd()
with open(here / "runs.jsonl", "a") as log:
    log.write(json.dumps({"argv": sys.argv, "env": dict(os.environ)}) + "\\n")
command, name = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
path = here / "store" / name
if command == "get":
    if not path.is_file():
        sys.stderr.write(f"Error: secret {name} not found\\n")
        sys.exit(3)
    sys.stdout.buffer.write(path.read_bytes())
elif command == "put":
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sys.stdin.buffer.read())
elif command == "hang":
    # A CLI stuck on a login, with a helper of its own: both must be stopped.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    (here / "pids").write_text(f"{os.getpid()} {child.pid}")
    time.sleep(600)
elif command == "fail":
    sys.stderr.write(name.replace("\\\\n", "\\n"))
    sys.exit(int(sys.argv[3]))
elif command == "print":
    sys.stdout.write(name)
elif command == "flood":
    while True:
        sys.stdout.write("x" * 65536)
elif command == "slowget":
    # Records when it ran, so tests can count runs in flight.
    start = time.monotonic()
    time.sleep(0.3)
    with open(here / "spans.jsonl", "a") as spans:
        spans.write(json.dumps([start, time.monotonic()]) + "\\n")
    sys.stdout.write(name)
elif command == "daemon":
    # Prints the value and exits, leaving a helper in a session of its own that still
    # holds stdout (as an agent a CLI starts may): out of reach of the group kill.
    helper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    (here / "pids").write_text(str(helper.pid))
    sys.stdout.write(name)
elif command == "prompt":
    sys.stdout.write(open("/dev/tty").readline())
"""


def install_fake_cli(folder: Path) -> Path:
    """Write the fake CLI as an executable ``folder/fake-cli``; return its path."""
    path = folder / "fake-cli"
    path.write_text(f"#!{sys.executable}\n{FAKE_CLI}")
    path.chmod(0o755)
    return path


def runs(folder: Path) -> list[dict[str, Any]]:
    """Every run of the fake CLI in ``folder``: its ``argv`` and ``env``."""
    log = folder / "runs.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def toml_list(argv: list[str]) -> str:
    """``argv`` as a TOML array."""
    return json.dumps(argv)


def write_config(
    root: Path,
    fetch: list[str],
    store: list[str] | None = None,
    mappings: Sequence[tuple[str, str, str]] = (),
    extra: str = "",
) -> Path:
    """``root/envdrift.toml`` for the ``command`` vault; mappings are (secret, folder, env)."""
    lines = [
        "[vault]",
        'provider = "command"',
        "",
        "[vault.command]",
        f"fetch = {toml_list(fetch)}",
    ]
    if store is not None:
        lines.append(f"store = {toml_list(store)}")
    lines.append(extra)
    for secret, folder, environment in mappings:
        (root / folder).mkdir(parents=True, exist_ok=True)
        lines += [
            "",
            "[[vault.sync.mappings]]",
            f"secret_name = {json.dumps(secret)}",
            f"folder_path = {json.dumps(folder)}",
            f"environment = {json.dumps(environment)}",
        ]
    path = root / "envdrift.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_hanging_fetch_stopped(
    envdrift_cli: Callable[..., Result], folder: str, program: str, secret: str, *, under: float
) -> None:
    """``sync --ci --timeout 2`` stops the one mapping's hanging fetch, in ``under`` seconds."""
    started = time.monotonic()
    result = envdrift_cli("sync", "--ci", "--timeout", "2")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert sync_errors(result)[folder] == (
        f"fetch command '{program}' for secret '{secret}' did not finish within 2 s and was "
        "stopped (raise [vault] timeout or --timeout if it needs longer)"
    )
    assert elapsed < under, elapsed
