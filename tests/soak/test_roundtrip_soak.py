"""Soak: random env files round-tripped between envdrift and the real dotenvx, both ways.

``SOAK_FILES`` random env files (2,000 by default, in batches of 50 per folder) hold
values built from what breaks env files: every quote, backslashes, ``#``, ``=``, blanks,
newlines and CRLF inside quotes, ANSI escape sequences and other control characters,
non-ASCII text, U+2028, ``export``, comments (no ``$``: dotenvx would expand it, and
then neither tool's bytes are the point; no value starting ``encrypted:``, which both
tools rightly take for a ciphertext). The 50 files of a batch share one key pair (each
file names its public key; ``.env.keys`` holds ``DOTENV_PRIVATE_KEY``): dotenvx tries
every private key on every value, so 50 keys would make each of its runs minutes long.
What dotenvx reads from the plaintext file (``dotenvx get --format json``) is the
truth; then:

* **envdrift → dotenvx**: ``envdrift encrypt`` every file; ``dotenvx get`` must read
  the truth back from envdrift's encrypted files (with envdrift's ``.env.keys``);
* **dotenvx → envdrift**: ``dotenvx encrypt`` every file; ``envdrift decrypt --stdout``
  each one through a pipe (a fresh process per file, as a script would); ``dotenvx
  get`` must read the truth from what envdrift printed.

A mismatch is any value (by name) that differs from the truth, or is missing or extra.
envdrift may refuse a value it cannot write safely (it then says so and exits 1); that
is counted apart, as "refused", and is not a mismatch.

Figures (printed; run with ``-s``): files, values, mismatches each way (must be 0),
values refused each way, files decrypted to stdout, wall time.

Opt-in (``-m soak``, needs the dotenvx CLI): ``nox -s soak``, or
``.venv/bin/python -m pytest tests/soak -m soak -s``. ``SOAK_FILES`` (2000),
``SOAK_SEED`` (1) and ``SOAK_JOBS`` (4, envdrift processes at once) change its size.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from envdrift.dotenvx.crypto import generate_keypair

from tests.dotenvx_cli import DotenvxCli, require_dotenvx

pytestmark = [pytest.mark.soak, pytest.mark.dotenvx]

FILES = int(os.environ.get("SOAK_FILES", "2000"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
JOBS = int(os.environ.get("SOAK_JOBS", "4"))
BATCH = 50
ENVDRIFT = [sys.executable, "-m", "envdrift"]

#: The pieces values are built from: what env-file grammar and terminals care about.
PIECES = [
    *"abcxyzABC019",
    *" \t#=:'\"`\\,;!?*&%@^~|<>(){}[]/.-_+",
    "\n",
    "\r\n",
    "\x1b[31m",
    "\x1b[0m",
    "\x1b]0;title\x07",
    "\x07",
    "\x08",
    "\x7f",
    "\x0c",
    "é",
    "ünïcødé",
    "🔑",
    "日本語",
    "\u2028",
    "\u00a0",
    "\ufeff",
    "export ",
    "KEY=",
    "# not a comment",
    "\\n",
    "\\t",
    "https://u:p@h:1/x?y=1&z=2",
]


def random_value(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.choice([0, 1, 2, 5, 10, 30])))


def random_line(rng: random.Random, name: str) -> str:
    """One assignment in a random style; the value may well defeat that style."""
    value = random_value(rng)
    quote = rng.choice(["", "'", '"', "`", '"', "'"])
    if quote and rng.random() < 0.8:
        value = value.replace(quote, "")  # mostly well-formed, sometimes not
    if not quote and rng.random() < 0.8:
        value = value.replace("\n", " ").replace("\r", " ")
    export = "export " if rng.random() < 0.1 else ""
    equals = rng.choice(["=", "=", "=", " = ", "= "])
    comment = " # trailing" if rng.random() < 0.1 else ""
    return f"{export}{name}{equals}{quote}{value}{quote}{comment}"


def random_file(rng: random.Random, prefix: str, public_key: str) -> str:
    lines = [f'DOTENV_PUBLIC_KEY_{prefix.split("F")[-1]}="{public_key}"']
    if rng.random() < 0.2:
        lines.append("# a comment")
    for index in range(rng.randint(1, 8)):
        if rng.random() < 0.1:
            lines.append("")
        lines.append(random_line(rng, f"{prefix}_{index}"))
    newline = "\r\n" if rng.random() < 0.15 else "\n"
    return newline.join(lines) + (newline if rng.random() < 0.9 else "")


@dataclass
class Tally:
    files: int = 0
    values: int = 0
    mismatches: dict[str, list[str]] = field(
        default_factory=lambda: {"envdrift->dotenvx": [], "dotenvx->envdrift": []}
    )
    refused: dict[str, int] = field(
        default_factory=lambda: {"envdrift->dotenvx": 0, "dotenvx->envdrift": 0}
    )
    to_stdout: int = 0


def dotenvx_values(dotenvx: DotenvxCli, folder: Path, names: list[str]) -> dict[str, str]:
    """What dotenvx reads from ``names`` in ``folder`` (public keys left out)."""
    args = ["get", "--format", "json", *(a for n in names for a in ("-f", n))]
    shown = dotenvx.run(args, cwd=folder, check=False)
    values = json.loads(shown.stdout or "{}")
    return {k: v for k, v in values.items() if not k.startswith("DOTENV_PUBLIC_KEY")}


def compare(way: str, truth: dict[str, str], got: dict[str, str], where: str, tally: Tally) -> None:
    for name in sorted(set(truth) | set(got)):
        if truth.get(name) != got.get(name):
            tally.mismatches[way].append(f"{where}: {name}")


def envdrift_stdout(folder: Path, name: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*ENVDRIFT, "decrypt", name, "--stdout"],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,  # a pipe, as in `envdrift decrypt --stdout F | …`
        timeout=120,
        check=False,
    )


def one_batch(
    dotenvx: DotenvxCli, work: Path, batch: int, rng: random.Random, tally: Tally
) -> None:
    names = [f".env.f{index:02d}" for index in range(BATCH)]
    plain = work / f"plain{batch}"
    plain.mkdir()
    pair = generate_keypair()
    (plain / ".env.keys").write_text(f"DOTENV_PRIVATE_KEY={pair.private_key.reveal()}\n")
    for index, name in enumerate(names):
        text = random_file(rng, f"B{batch}F{index:02d}", pair.public_key)
        (plain / name).write_bytes(text.encode())
    truth = dotenvx_values(dotenvx, plain, names)
    tally.files += len(names)
    tally.values += len(truth)

    # envdrift encrypts, dotenvx reads.
    ours = work / f"ours{batch}"
    shutil.copytree(plain, ours)
    encrypted = subprocess.run(
        [*ENVDRIFT, "encrypt", *names], cwd=ours, capture_output=True, text=True, check=False
    )
    assert encrypted.returncode in (0, 1), encrypted.stderr
    tally.refused["envdrift->dotenvx"] += encrypted.stderr.count("stays in plain text")
    way = "envdrift->dotenvx"
    compare(way, truth, dotenvx_values(dotenvx, ours, names), f"batch {batch}", tally)

    # dotenvx encrypts, envdrift decrypts to a pipe, dotenvx reads what it printed.
    theirs, printed = work / f"theirs{batch}", work / f"printed{batch}"
    shutil.copytree(plain, theirs)
    printed.mkdir()
    dotenvx.run(["encrypt", *(a for n in names for a in ("-f", n))], cwd=theirs, check=False)
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        results = dict(
            zip(names, pool.map(lambda n: envdrift_stdout(theirs, n), names), strict=True)
        )
    for name, result in results.items():
        if result.returncode != 0:
            tally.refused["dotenvx->envdrift"] += 1
            assert b"Traceback" not in result.stderr, result.stderr.decode()
            continue
        tally.to_stdout += 1
        (printed / name).write_bytes(result.stdout)
    done = [n for n in names if results[n].returncode == 0]
    # A refused file's lines are not in the output: the truth is what dotenvx reads
    # from the other files (a line can define a name without the file's prefix).
    want = truth if len(done) == len(names) else dotenvx_values(dotenvx, plain, done)
    compare(
        "dotenvx->envdrift", want, dotenvx_values(dotenvx, printed, done), f"batch {batch}", tally
    )
    for folder in (plain, ours, theirs, printed):
        shutil.rmtree(folder)


def test_random_files_round_trip_with_dotenvx_both_ways(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dotenvx = require_dotenvx(tmp_path_factory.mktemp("dotenvx-home"))
    rng = random.Random(SEED)
    tally = Tally()
    started = time.monotonic()
    for batch in range((FILES + BATCH - 1) // BATCH):
        one_batch(dotenvx, tmp_path, batch, rng, tally)
    seconds = time.monotonic() - started
    print(
        f"\nround trip with dotenvx: {tally.files} files, {tally.values} values, "
        f"{seconds:.0f} s; envdrift->dotenvx: "
        f"{len(tally.mismatches['envdrift->dotenvx'])} mismatches, "
        f"{tally.refused['envdrift->dotenvx']} values left plain (refused); "
        f"dotenvx->envdrift (decrypt --stdout, {tally.to_stdout} files): "
        f"{len(tally.mismatches['dotenvx->envdrift'])} mismatches, "
        f"{tally.refused['dotenvx->envdrift']} files refused"
    )
    for way, found in tally.mismatches.items():
        assert found == [], f"{way}: {found[:20]}"
