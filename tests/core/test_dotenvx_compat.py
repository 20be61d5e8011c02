"""envdrift and the real dotenvx CLI read and write each other's files.

Both directions run on files with awkward content (unicode, three kinds of quotes, ``=``
and ``#`` in values, multi-line values, empty values, ``export``, CRLF, a BOM, a
shebang, duplicate keys, an 8 kB value). Ciphertexts and keys are random, so files are
compared byte for byte once those are masked. dotenvx is slow to start (~0.4 s), so each
call covers several files.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from envdrift.dotenvx.envfile import EnvFile
from envdrift.dotenvx.keysfile import KeysFile
from envdrift.dotenvx.operations import decrypt_file

from tests.dotenvx_cli import DotenvxCli, require_dotenvx

pytestmark = pytest.mark.dotenvx

Run = Callable[..., Result]

BIG = "x" * 8192
LF_FILE = (
    "#!/usr/bin/env bash\n"
    "# awkward values\n"
    "export EXPORTED=exported value\n"
    'UNICODE="ünïcødé 🔑 ✓"\n'
    'DOUBLE="double quoted"\n'
    "SINGLE='single \"quoted\" $NOT_EXPANDED'\n"
    "BACKTICK=`back 'tick' \"mixed\"`\n"
    "EQUALS=a=b=c\n"
    'HASH_QUOTED="# not a comment"\n'
    "HASH_BARE=abc#def\n"
    "URL=https://user:p%40ss@db.example:5432/app?x=1&y=2\n"
    'JSON={"a": 1, "b": [true, null]}\n'
    'ESCAPES="tab\\tnewline\\nend"\n'
    'MULTI="line one\nline two\nline three"\n'
    'PEM="-----BEGIN KEY-----\nabc/def+ghi=\n-----END KEY-----"\n'
    "EMPTY=\n"
    'EMPTY_QUOTED=""\n'
    "  INDENTED = spaced value  \n"
    'TRAILING="value" # trailing comment\n'
    'ESCAPED_DQ="say \\"hi\\""\n'
    "YAML: not encrypted\n"
    "SINGLE_ESC='it\\'s'\n"
    "DUP=first\n"
    "DUP=second\n"
    "KEEP_PLAIN=visible\n"
    f'BIG="{BIG}"\n'
)
CRLF_FILE = "# crlf\r\nA=1\r\nEMPTY=\r\n\r\nMULTI=\"one\r\ntwo\"\r\nexport B='b b'\r\nC=c#c\r\n"
BOM_FILE = "\ufeffFIRST=after a bom\nSECOND=`no final newline`"
FIXTURES = {".env.lf": LF_FILE, ".env.crlf": CRLF_FILE, ".env.bom": BOM_FILE}
NAMES = list(FIXTURES)
#: Values dotenvx cannot rewrite in place; both tools leave them readable.
NOT_ENCRYPTED = {"YAML", "SINGLE_ESC", "KEEP_PLAIN"}

_CIPHERTEXT = re.compile(r"encrypted:[A-Za-z0-9+/=]+")
_KEY_HEX = re.compile(r"\b(?:0[23][0-9a-f]{64}|[0-9a-f]{64})\b")


def mask(data: bytes) -> str:
    text = data.decode("utf-8")
    return _KEY_HEX.sub("<key>", _CIPHERTEXT.sub("encrypted:<ct>", text))


def files_args() -> list[str]:
    return [arg for name in NAMES for arg in ("-f", name)]


def write_fixtures(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in FIXTURES.items():
        (directory / name).write_bytes(text.encode("utf-8"))
        (directory / name).chmod(0o640)


def plain_values(text: str, *, public_keys: bool = False) -> dict[str, str]:
    """What dotenv reads from a file: the last value of each key."""
    return {
        e.key: e.value
        for e in EnvFile(text).entries
        if e.value is not None and (public_keys or not e.key.startswith("DOTENV_PUBLIC_KEY"))
    }


@pytest.fixture(scope="module")
def dotenvx(tmp_path_factory: pytest.TempPathFactory) -> DotenvxCli:
    return require_dotenvx(tmp_path_factory.mktemp("dotenvx-home"))


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    return monkeypatch.chdir


def envdrift_encrypt(envdrift_cli: Run, directory: Path, in_dir: Callable[[Path], None]) -> Result:
    in_dir(directory)
    result = envdrift_cli("encrypt", *NAMES)
    # The YAML-style and \' lines stay readable: envdrift says so and exits 1.
    assert result.exit_code == 1, result.output
    assert "line 25: YAML cannot be encrypted in place" in result.stderr
    assert "line 26: SINGLE_ESC cannot be encrypted in place" in result.stderr
    return result


def test_dotenvx_reads_what_envdrift_encrypts(
    dotenvx: DotenvxCli, envdrift_cli: Run, tmp_path: Path, in_dir: Callable[[Path], None]
) -> None:
    work = tmp_path / "envdrift"
    write_fixtures(work)
    envdrift_encrypt(envdrift_cli, work, in_dir)
    ours = [decrypt_file(work / name, write=False).text for name in NAMES]
    for name, text in zip(NAMES, ours, strict=True):
        assert "encrypted:" not in text
        assert plain_values(text) == plain_values(FIXTURES[name])
    # dotenvx decrypts envdrift's files to exactly the text envdrift decrypts them to.
    shown = dotenvx.run(["decrypt", "--stdout", *files_args()], cwd=work)
    assert shown.stdout == "".join(text + "\n" for text in ours)
    # `get` with the key only in the environment: every value, as envdrift reads it.
    keys = KeysFile.read(work / ".env.keys")
    private = keys.get("DOTENV_PRIVATE_KEY_LF")
    assert private is not None
    (work / ".env.keys").rename(tmp_path / "keys.away")
    got = dotenvx.run(
        ["get", "-f", ".env.lf"], cwd=work, env={"DOTENV_PRIVATE_KEY_LF": private.reveal()}
    )
    expected = plain_values(ours[0], public_keys=True)
    assert json.loads(got.stdout) == expected
    assert expected["BIG"] == BIG
    assert expected["DUP"] == "second"
    assert expected["MULTI"] == "line one\nline two\nline three"
    assert expected["ESCAPES"] == "tab\tnewline\nend"


@pytest.fixture(scope="module")
def dotenvx_encrypted(dotenvx: DotenvxCli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("dotenvx-encrypted")
    write_fixtures(work)
    dotenvx.run(["encrypt", *files_args()], cwd=work)
    return work


def test_envdrift_writes_what_dotenvx_writes(
    dotenvx_encrypted: Path, envdrift_cli: Run, tmp_path: Path, in_dir: Callable[[Path], None]
) -> None:
    ours = tmp_path / "envdrift"
    write_fixtures(ours)
    envdrift_encrypt(envdrift_cli, ours, in_dir)
    for name in [*NAMES, ".env.keys"]:
        theirs_path, ours_path = dotenvx_encrypted / name, ours / name
        assert mask(ours_path.read_bytes()) == mask(theirs_path.read_bytes()), name
        assert stat.S_IMODE(ours_path.stat().st_mode) == stat.S_IMODE(theirs_path.stat().st_mode)
    assert stat.S_IMODE((ours / ".env.keys").stat().st_mode) == 0o600
    assert stat.S_IMODE((ours / ".env.lf").stat().st_mode) == 0o640
    # The traps dotenvx has are reproduced, not fixed: a BOM now sits on line 8, and
    # CRLF's `EMPTY=␍␊␍␊` lost its blank line.
    lines = (ours / ".env.bom").read_bytes().split(b"\n")
    assert lines[7].startswith(b"\xef\xbb\xbfFIRST=encrypted:")
    assert b"EMPTY=encrypted:" in (ours / ".env.crlf").read_bytes()


def test_envdrift_decrypts_what_dotenvx_encrypts(
    dotenvx: DotenvxCli, dotenvx_encrypted: Path, tmp_path: Path
) -> None:
    work = tmp_path / "copy"
    shutil.copytree(dotenvx_encrypted, work)
    shown = dotenvx.run(["decrypt", "--stdout", *files_args()], cwd=work)
    ours = [
        decrypt_file(work / name, write=False, keys_file=work / ".env.keys").text for name in NAMES
    ]
    assert shown.stdout == "".join(text + "\n" for text in ours)
    for name, text in zip(NAMES, ours, strict=True):
        assert plain_values(text) == plain_values(FIXTURES[name]), name
    # In place, the file becomes exactly that text (dotenvx's --stdout adds a newline
    # to what its in-place decrypt writes).
    for name, text in zip(NAMES, ours, strict=True):
        decrypt_file(work / name, keys_file=work / ".env.keys")
        assert (work / name).read_bytes() == text.encode("utf-8")


def test_shared_keys_file_and_each_others_public_keys(
    dotenvx: DotenvxCli,
    dotenvx_encrypted: Path,
    envdrift_cli: Run,
    tmp_path: Path,
    in_dir: Callable[[Path], None],
) -> None:
    work = tmp_path / "shared"
    shutil.copytree(dotenvx_encrypted, work)
    # envdrift appends a key to dotenvx's .env.keys, keeping every byte there.
    keys_before = (work / ".env.keys").read_bytes()
    (work / ".env.extra").write_text("EXTRA='added by envdrift'\n")
    in_dir(work)
    assert envdrift_cli("encrypt", ".env.extra").exit_code == 0
    keys_after = (work / ".env.keys").read_bytes()
    assert keys_after.startswith(keys_before)
    assert keys_after[len(keys_before) :].startswith(b"\n# .env.extra\nDOTENV_PRIVATE_KEY_EXTRA=")
    # dotenvx adds a value to a file envdrift encrypted, with envdrift's public key...
    (work / ".env.extra").write_text((work / ".env.extra").read_text() + 'MORE="by dotenvx"\n')
    untouched = (work / ".env.extra").read_text().splitlines()[7]
    dotenvx.run(["encrypt", "-f", ".env.extra"], cwd=work)
    assert (work / ".env.extra").read_text().splitlines()[7] == untouched
    # ...and each tool decrypts the other's values.
    shown = dotenvx.run(["decrypt", "--stdout", "-f", ".env.extra"], cwd=work)
    ours = decrypt_file(work / ".env.extra", write=False).text
    assert shown.stdout == ours + "\n"
    assert plain_values(ours) == {
        "EXTRA": "added by envdrift",
        "MORE": "by dotenvx",
    }


def test_trap_2_envdrift_quotes_what_dotenvx_would_corrupt(
    dotenvx: DotenvxCli, tmp_path: Path
) -> None:
    value = 'say "hi" # x'
    dotenvx.run(["set", "Q", value, "-f", ".env.set"], cwd=tmp_path)
    shown = dotenvx.run(["decrypt", "--stdout", "-f", ".env.set"], cwd=tmp_path)
    assert 'Q="say "hi" # x"' in shown.stdout  # dotenvx: reads back as `say "hi`
    assert plain_values(shown.stdout)["Q"] == 'say "hi'
    ours = decrypt_file(tmp_path / ".env.set", write=False).text
    assert 'Q=`say "hi" # x`' in ours
    assert plain_values(ours)["Q"] == value


# -- the single-pass rewrite against dotenvx's own scan + upsert ---------------------

_ORACLE = r"""
const { scan, upsert } = require(process.argv[1])
const crypto = require('crypto')
const token = v => 'T' + crypto.createHash('sha256').update(v, 'utf8').digest('hex').slice(0, 12)
const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'))
process.stdout.write(JSON.stringify(texts.map(text => {
  const { parsed } = scan(text)
  let src = text
  for (const [key, values] of Object.entries(parsed)) {
    if (key.startsWith('DOTENV_PUBLIC_KEY') || key.endsWith('_PLAIN')) continue
    src = upsert(src, key, values.map(v => v.startsWith('encrypted:') ? v : token(v)))
  }
  return { parsed, rewritten: src }
})))
"""

_KEYS = ["A", "B", "KEY_1", "a.b-c", "X_PLAIN", "DOTENV_PUBLIC_KEY", "export"]
_PIECES = [
    "",
    "x",
    "abc def",
    " pad ",
    "a#b",
    "a=b",
    "é🔑",
    "$HOME",
    "it\\'s",
    'say "hi"',
    "it's",
    "a\\nb",
    "line1\nline2",
    "back`tick",
    "encrypted:QUJD",
    "\\",
    "x\r\ny",
    "\ufeff",
    "\x1c",
    'p\\"q',
    "\u2028z",
]


def _random_file(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.1:
            lines.append(rng.choice(["", "# c", "   ", "#!/bin/sh", "\ufeff", "'", '"open']))
            continue
        quote = rng.choice(["", '"', "'", "`"])
        value = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 2)))
        lines.append(
            rng.choice(["", "  ", "\t", "\ufeff"])
            + rng.choice(["", "export "])
            + rng.choice(_KEYS)
            + rng.choice(["=", " = ", "= ", ": ", ":"])
            + quote
            + value
            + (quote if rng.random() > 0.05 else "")
            + rng.choice(["", " ", " # c", "#c"])
        )
    eol = rng.choice(["\n", "\r\n", "\r"])
    return eol.join(lines) + rng.choice(["", eol])


def _token(value: str) -> str:
    import hashlib

    return "T" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def test_parser_and_rewrite_match_dotenvx_primitives(dotenvx: DotenvxCli) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH, though the dotenvx CLI is installed")
    rng = random.Random(20260101)
    texts = [_random_file(rng) for _ in range(600)]
    primitives = dotenvx.node_modules / "@dotenvx" / "primitives"
    answer = subprocess.run(
        [node, "-e", _ORACLE, str(primitives)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    compared = 0
    for text, theirs in zip(texts, json.loads(answer.stdout), strict=True):
        env = EnvFile(text)
        parsed: dict[str, list[str]] = {}
        for entry in env.entries:
            if entry.value is not None:
                parsed.setdefault(entry.key, []).append(entry.value)
        assert parsed == theirs["parsed"], repr(text)
        edits, locatable = [], True
        for entry in env.entries:
            if entry.key.startswith("DOTENV_PUBLIC_KEY") or entry.key.endswith("_PLAIN"):
                continue
            span = env.locate(entry) if entry.value is not None else None
            if span is None or entry.value is None:
                locatable = False
                continue
            value = entry.value
            edits.append((entry, span, value if value.startswith("encrypted:") else _token(value)))
        # Where dotenvx's whole-file search lands on the line it meant, the single pass
        # gives the same bytes. (Where some line cannot be rewritten, dotenvx's search
        # can land on a different line with the same text; envdrift leaves it and warns.)
        if locatable:
            compared += 1
            assert env.rewrite(edits) == theirs["rewritten"], repr(text)
    assert compared > 150


#: ``.env.keys`` layouts around a key line; ``%s`` is the private key.
KEYS_LAYOUTS = [
    'NOTE="first\nDOTENV_PRIVATE_KEY_CI=%s\nlast"\n',  # inside a double-quoted value
    "NOTE='first\nDOTENV_PRIVATE_KEY_CI=%s\nlast'\n",  # single-quoted
    "NOTE=`first\nDOTENV_PRIVATE_KEY_CI=%s\nlast`\n",  # backticks
    'NOTE="first\nDOTENV_PRIVATE_KEY_CI=%s\n',  # a quote that never closes: a plain value
    'NOTE="first\nlast"\nDOTENV_PRIVATE_KEY_CI=%s\n',  # after a multi-line value
    'A="x"\r\nDOTENV_PRIVATE_KEY_CI=%s\r\n',  # CRLF
]


@pytest.mark.parametrize("layout", KEYS_LAYOUTS)
def test_keys_file_lines_count_as_keys_exactly_when_dotenvx_reads_them(
    dotenvx: DotenvxCli, tmp_path: Path, layout: str
) -> None:
    dotenvx.run(["encrypt", "-f", ".env.ci"], cwd=_with_plain_ci(tmp_path))
    key = KeysFile.read(tmp_path / ".env.keys").get("DOTENV_PRIVATE_KEY_CI")
    assert key is not None
    (tmp_path / ".env.keys").write_bytes((layout % key.reveal()).encode())
    theirs = dotenvx.run(["decrypt", "-f", ".env.ci", "--stdout"], cwd=tmp_path, check=False)
    ours = KeysFile.read(tmp_path / ".env.keys").candidates()
    assert (theirs.returncode == 0) == (ours == [key]), theirs.stderr


def _with_plain_ci(folder: Path) -> Path:
    (folder / ".env.ci").write_text("A=1\n")
    return folder
