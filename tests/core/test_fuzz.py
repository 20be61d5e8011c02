"""Property tests (hypothesis) over every parser envdrift has.

For any input, each parser gives a correct result or a clear ``EnvdriftError``, never
another exception; and what envdrift writes, it reads back the same:

* ``.env`` (``envdrift.dotenvx.envfile``): any text parses; encrypting every value and
  decrypting it again gives each value back exactly (or names the value it cannot
  rewrite), quotes and backslashes anywhere included; undecodable bytes are a
  ``FormatError`` naming the line.
* ``.env.keys`` (``KeysFile``): any text renders back byte for byte; setting a key and
  reading the file again gives that key and leaves every other line alone.
* ``pair.txt`` and ``envdrift.toml`` (``load_config``): any bytes load or raise a
  ``ConfigError`` naming the file; generated configurations load back as written.
* vault values (``normalize_private_key``): any text gives the key or a ``FormatError``
  whose message never contains the value; every accepted shape gives the key back.

``ENVDRIFT_FUZZ_EXAMPLES`` sets the examples per property (default 200, a quarter of that
for those that encrypt or write files, which keeps the suite quick; the resilience
note reports a run with many more).
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import re
import string
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from envdrift import ConfigError, EnvdriftError, FormatError, Secret
from envdrift.config import load_config
from envdrift.dotenvx.crypto import Decryptor, Encryptor, generate_keypair
from envdrift.dotenvx.envfile import EnvFile, decode_env_bytes
from envdrift.dotenvx.keysfile import KeysFile
from envdrift.dotenvx.operations import decrypt_text, encrypt_text
from envdrift.keyvalue import normalize_private_key
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("ENVDRIFT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a loaded machine must not turn slowness into failures
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: The properties that run real crypto or write files: a quarter of the examples.
FUZZ_SLOW = settings(FUZZ, max_examples=max(25, EXAMPLES // 4))
KEY = "a" * 63 + "1"
KEY_B = "0123456789abcdef" * 4
PAIR = generate_keypair()

#: Pieces that matter to env-file grammar, mixed with any character at all.
TOKENS = [
    *"=#'\"`\\ \t\r\n:$ {}.-_",
    *["export ", "\ufeff", "\u2028", "DOTENV_PRIVATE_KEY", "_PRODUCTION", "encrypted:", KEY],
    *string.ascii_letters[:8],
    *string.digits[:4],
]
env_text = st.lists(st.sampled_from(TOKENS) | st.characters(codec="utf-8"), max_size=120).map(
    "".join
)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)


def outcome(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or the ``EnvdriftError`` it raised (anything else propagates)."""
    try:
        return call()
    except EnvdriftError as exc:
        return exc


# -- .env ------------------------------------------------------------------------------------


@FUZZ
@given(text=env_text)
def test_any_env_text_parses(text: str) -> None:
    env = EnvFile(text)
    for entry in env.entries:
        assert entry.key
        env.locate(entry)  # never raises either


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_env_bytes_decode_or_name_the_line(data: bytes) -> None:
    result = outcome(lambda: decode_env_bytes(data, Path("x.env")))
    if isinstance(result, EnvdriftError):
        assert isinstance(result, FormatError)
        assert str(result).startswith("x.env, line ")
    else:
        assert isinstance(result, str)


#: Values as people write them: plain, with blanks, #, $, = and newlines.
values = st.text(alphabet=st.sampled_from([*"ab c#$=\n\t", "é", "✓"]), max_size=20)
#: And as they should not: quotes and backslashes anywhere.
hostile_values = st.text(alphabet=st.sampled_from([*"ab #$\n'\"`\\"]), max_size=12)


@st.composite
def env_files(draw: Any, values: Any = values) -> tuple[str, dict[str, str]]:
    """A file of distinct ``KEY=value`` lines in any quoting, and what each value reads as."""
    keys = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    lines = []
    for key in keys:
        quote = draw(st.sampled_from(["", "'", '"', "`"]))
        comment = draw(st.sampled_from(["", " # note", "  #"]))
        value = draw(values)
        lines.append(f"{key}={quote}{value}{quote}{comment}")
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    # What the parser reads is what must survive the round trip.
    expected = {e.key: e.value for e in EnvFile(text).entries if e.value is not None}
    return text, expected


@FUZZ_SLOW
@given(case=env_files())
def test_encrypt_then_decrypt_gives_every_value_back(case: tuple[str, dict[str, str]]) -> None:
    text, expected = case
    env = EnvFile(text)
    encrypted = encrypt_text(env, PAIR.public_key)
    left_alone = {item.key for item in encrypted.leftovers}
    sealed = EnvFile(encrypted.text)
    assert [e.key for e in sealed.entries] == [e.key for e in env.entries]
    decrypted = decrypt_text(sealed, [Decryptor(PAIR.private_key)])
    left_alone |= {entry.key for entry in decrypted.unsafe}
    back = {e.key: e.value for e in EnvFile(decrypted.text).entries}
    for key, value in expected.items():
        if key not in left_alone:  # those are named to the user, never rewritten silently
            assert back[key] == value


@FUZZ_SLOW
@given(case=env_files(hostile_values))
def test_hostile_values_come_back_or_are_named(case: tuple[str, dict[str, str]]) -> None:
    """Quotes and backslashes anywhere: every value comes back, or the user is told which not.

    A file may hold a line whose value reads on into the lines after it (an unquoted
    value opening with a quote); a rewrite that would change how it reads is refused,
    naming the line, and nothing else is.
    """
    text, expected = case
    env = EnvFile(text)
    result = outcome(lambda: encrypt_text(env, PAIR.public_key))
    if not isinstance(result, EnvdriftError):
        encrypted = result
        result = outcome(
            lambda: decrypt_text(EnvFile(encrypted.text), [Decryptor(PAIR.private_key)])
        )
    if isinstance(result, EnvdriftError):
        assert isinstance(result, FormatError)
        assert re.match(r"line \d+: \w+ would read differently", str(result)), result
        assert any(e.raw.lstrip()[:1] in ("'", '"', "`") for e in env.entries)
        return
    decrypted = result
    left_alone = {item.key for item in encrypted.leftovers}
    left_alone |= {entry.key for entry in decrypted.unsafe}
    back = {e.key: e.value for e in EnvFile(decrypted.text).entries}
    for key, value in expected.items():
        if key not in left_alone:
            assert back[key] == value


def test_a_value_ending_in_a_backslash_survives_a_round_trip() -> None:
    # Once written back as "\", it escaped its own closing quote and read on to the
    # next double quote of the file, swallowing the lines between.
    env = EnvFile('A=`\\`\nB=\nC="#"\n')
    assert [(e.key, e.value) for e in env.entries] == [("A", "\\"), ("B", ""), ("C", "#")]
    sealed = EnvFile(encrypt_text(env, PAIR.public_key).text)
    back = EnvFile(decrypt_text(sealed, [Decryptor(PAIR.private_key)]).text)
    assert [(e.key, e.value) for e in back.entries] == [("A", "\\"), ("B", ""), ("C", "#")]


def test_a_lone_escaped_single_quote_stays_plain_and_is_named() -> None:
    # dotenvx 2.38.2 replaces only the leading ' here and leaves \'' behind its
    # ciphertext, a line that no longer decrypts; envdrift leaves it and says why.
    env = EnvFile("A='\\''\nB=x\n")
    assert env.entries[0].value == "'"
    encrypted = encrypt_text(env, PAIR.public_key)
    assert [(item.key, item.line) for item in encrypted.leftovers] == [("A", 1)]
    assert "use double quotes" in encrypted.leftovers[0].reason
    sealed = EnvFile(encrypted.text)
    assert sealed.entries[0].raw == env.entries[0].raw
    assert encrypted.encrypted == ["B"]


def test_an_unquoted_value_starting_with_a_quote_survives_a_round_trip() -> None:
    # Written back unquoted, `\ opened a backtick-quoted value running into the next line.
    env = EnvFile('A=`\\#\nB="\n')
    assert [(e.key, e.value) for e in env.entries] == [("A", "`\\"), ("B", '"')]
    sealed = EnvFile(encrypt_text(env, PAIR.public_key).text)
    back = EnvFile(decrypt_text(sealed, [Decryptor(PAIR.private_key)]).text)
    assert [(e.key, e.value) for e in back.entries] == [("A", "`\\"), ("B", '"')]


def test_a_rewrite_that_would_change_an_earlier_line_is_refused() -> None:
    # A's unquoted value opens a backtick; once B's ciphertext becomes "1`<newline>2",
    # A would read on to B's backtick. The message names A's line; nothing is written.
    ciphertext = Encryptor(PAIR.public_key).encrypt("1`\n2")
    sealed = EnvFile(f'A=`a\nB="{ciphertext}"\n')
    assert [e.value for e in sealed.entries] == ["`a", ciphertext]
    with pytest.raises(FormatError, match=r"^line 1: A would read differently"):
        decrypt_text(sealed, [Decryptor(PAIR.private_key)])


def test_an_empty_value_before_a_quoted_line_keeps_quotes() -> None:
    # Unquoted, the empty value would let the pattern skip the line break and read the
    # next line's quoted text as A's value.
    empty = Encryptor(PAIR.public_key).encrypt("")
    sealed = EnvFile(f"A={empty}\n\n  'x' # stray\nB={empty}\nC=1\n")
    text = decrypt_text(sealed, [Decryptor(PAIR.private_key)]).text
    assert text == "A=\"\"\n\n  'x' # stray\nB=\nC=1\n"
    assert [(e.key, e.value) for e in EnvFile(text).entries] == [("A", ""), ("B", ""), ("C", "1")]


# -- .env.keys -------------------------------------------------------------------------------


@FUZZ
@given(text=env_text)
def test_any_keys_file_renders_back_byte_for_byte(text: str) -> None:
    assert KeysFile(Path(".env.keys"), text).render() == text.encode("utf-8", "surrogatepass")


@FUZZ
@given(text=env_text)
@example(text="A:\nDOTENV_PRIVATE_KEY=1\n")  # no quote: `A:` takes the next line as its value
@example(text="# `quoted` in a comment\nA='x\nDOTENV_PRIVATE_KEY=1'\n")
@example(text="# a comment\u2028A='x\nDOTENV_PRIVATE_KEY=1\n# '\n")
def test_a_keys_file_names_the_lines_dotenvx_reads_as_assignments(text: str) -> None:
    # dotenvx reads .env.keys with its env-file grammar: a NAME=value line inside another
    # assignment's value is text, not a key. (KeysFile skips the grammar where no value
    # can take in another line: this checks that shortcut against the grammar itself.)
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", text)
    starts = list(itertools.accumulate((len(line) for line in lines[:-1]), initial=0))
    covered: set[int] = set()
    for entry in EnvFile(text).entries:
        first = bisect.bisect_right(starts, entry.key_start) - 1
        last = bisect.bisect_right(starts, max(entry.end - 1, entry.key_start)) - 1
        covered.update(range(first + 1, last + 1))
    expected = [
        name
        for index, line in enumerate(lines)
        if index not in covered
        for name in KeysFile(Path(".env.keys"), line).names()
    ]
    assert KeysFile(Path(".env.keys"), text).names() == expected


@FUZZ
@given(text=env_text, name=st.sampled_from(["DOTENV_PRIVATE_KEY_PRODUCTION", "DOTENV_PRIVATE_KEY"]))
def test_setting_a_key_then_reading_the_file_gives_it_back(text: str, name: str) -> None:
    keys = KeysFile(Path(".env.keys"), text)
    others = [n for n in keys.names() if n != name]
    keys.set(name, Secret(KEY), comment=".env.production")
    again = KeysFile(Path(".env.keys"), keys.render().decode("utf-8", "surrogatepass"))
    got = again.get(name)
    assert got is not None
    assert got.reveal() == KEY
    assert [n for n in again.names() if n != name] == others


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_keys_file_bytes_read_or_fail_clearly(data: bytes, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("keys") / ".env.keys"
    path.write_bytes(data)
    result = outcome(lambda: KeysFile.read(path))
    if isinstance(result, EnvdriftError):
        assert isinstance(result, FormatError)
        assert f"keys file {path} is not valid UTF-8 (line " in str(result)
    else:
        assert result.render() == data


# -- pair.txt and envdrift.toml ------------------------------------------------------------


def _load(tmp: Path, name: str, data: bytes) -> Any:
    path = tmp / name
    path.write_bytes(data)
    result = outcome(lambda: load_config(path, tmp))
    if isinstance(result, EnvdriftError):
        assert isinstance(result, ConfigError)
        assert str(result).startswith(name)  # names the file first
    return result


utf8 = env_text.map(lambda t: t.encode("utf-8", "surrogatepass"))


@FUZZ
@given(data=st.binary(max_size=400) | utf8)
def test_any_pair_txt_loads_or_fails_clearly(data: bytes, tmp_path_factory: Any) -> None:
    _load(tmp_path_factory.mktemp("pair"), "pair.txt", data)


@FUZZ
@given(data=st.binary(max_size=400) | utf8)
def test_any_toml_bytes_load_or_fail_clearly(data: bytes, tmp_path_factory: Any) -> None:
    _load(tmp_path_factory.mktemp("toml"), "envdrift.toml", data)


#: Keys the schema knows, at any depth, with values of any TOML type.
KNOWN = ["provider", "sync", "mappings", "secret_name", "folder_path", "environment",
         "vault_name", "profile", "timeout", "retries", "deadline", "max_workers",
         "allow_outside_root", "env_keys_filename", "default_vault_name", "vault", "x"]  # fmt: skip
scalars = st.one_of(
    st.text(max_size=8), st.integers(-5, 300), st.booleans(), st.floats(allow_nan=False)
)
tables = st.recursive(
    st.dictionaries(st.sampled_from(KNOWN), scalars, max_size=4),
    lambda inner: st.dictionaries(
        st.sampled_from(KNOWN), inner | st.lists(inner, max_size=3) | scalars, max_size=4
    ),
    max_leaves=15,
)


def _toml(value: Any) -> str:
    """TOML for generated data: inline tables and arrays are enough for any shape."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def _document(data: dict[str, Any]) -> bytes:
    return "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in data.items()).encode()


@FUZZ
@given(data=st.fixed_dictionaries({"vault": tables}) | tables)
def test_any_toml_document_loads_or_fails_clearly(
    data: dict[str, Any], tmp_path_factory: Any
) -> None:
    _load(tmp_path_factory.mktemp("toml"), "envdrift.toml", _document(data))


folders = st.from_regex(r"[a-z0-9_-]{1,8}(/[a-z0-9_-]{1,8}){0,2}", fullmatch=True)
secrets = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
environments = st.sampled_from(["", "staging", "prod-eu", "local_2"])


@FUZZ_SLOW
@given(rows=st.lists(st.tuples(secrets, folders, environments), min_size=1, max_size=6))
def test_generated_configs_load_back_as_written(
    rows: list[tuple[str, str, str]], tmp_path_factory: Any
) -> None:
    tmp = tmp_path_factory.mktemp("cfg")
    mappings = [{"secret_name": s, "folder_path": f, "environment": e} for s, f, e in rows]
    document = {"vault": {"provider": "files", "sync": {"mappings": mappings}}}
    (tmp / "envdrift.toml").write_bytes(_document(document))
    config = load_config(tmp / "envdrift.toml", tmp)
    assert [(m.secret_name, m.folder_path, m.environment) for m in config.mappings] == rows
    (tmp / "pair.txt").write_text("".join(f"{s} = {f}\n" for s, f, _ in rows))
    legacy = load_config(tmp / "pair.txt", tmp)
    assert [(m.secret_name, m.folder_path) for m in legacy.mappings] == [(s, f) for s, f, _ in rows]


# -- vault values ------------------------------------------------------------------------------


@st.composite
def vault_values(draw: Any) -> tuple[str, str]:
    """Any text with a secret-like part somewhere in it, and that part."""
    secret = draw(st.sampled_from([KEY, KEY.upper(), "s3cr3t-" + uuid.uuid4().hex[:10]]))
    before = draw(st.text(max_size=60) | env_text)
    after = draw(st.text(max_size=60) | env_text)
    return before + secret + after, secret


@FUZZ
@given(text=st.text(max_size=200) | env_text)
def test_any_vault_value_gives_the_key_or_a_clear_error(text: str) -> None:
    result = outcome(lambda: normalize_private_key(Secret(text), "production", source="s 'x'"))
    if isinstance(result, EnvdriftError):
        assert isinstance(result, FormatError)
        assert str(result).startswith("s 'x'")
    else:
        assert len(result.reveal()) == 64


@FUZZ
@given(case=vault_values())
# Found with 2,000 examples: a label whose suffix is the key itself was quoted.
@example(case=(f"DOTENV_PRIVATE_KEY{KEY}={KEY}", KEY))
@example(case=(json.dumps({f"dotenv_private_key_{KEY}": KEY}), KEY))
def test_a_refused_vault_value_is_described_never_quoted(case: tuple[str, str]) -> None:
    text, secret = case
    result = outcome(lambda: normalize_private_key(Secret(text), "production", source="s 'x'"))
    if isinstance(result, EnvdriftError):
        assert secret not in str(result)
        assert secret.lower() not in str(result)


@st.composite
def wrapped_keys(draw: Any) -> tuple[str, str]:
    """A key in one of the shapes teams store it in, and the key itself."""
    key = draw(st.sampled_from([KEY, KEY_B, KEY.upper()]))
    blank = draw(st.sampled_from(["", " ", "\n", "\t", "\ufeff", "\r\n"]))
    inner = draw(st.sampled_from(["{}", "'{}'", '"{}"'])).format(key)
    shape = draw(st.integers(0, 5))
    text = [
        inner,
        f"DOTENV_PRIVATE_KEY_PRODUCTION={inner}",
        f"export DOTENV_PRIVATE_KEY_PRODUCTION = {inner} # note",
        json.dumps({"value": key}),
        json.dumps({"DOTENV_PRIVATE_KEY_PRODUCTION": key}),
        f"# header\nDOTENV_PRIVATE_KEY_STAGING={KEY_B}\n\nDOTENV_PRIVATE_KEY_PRODUCTION={inner}\n",
    ][shape]
    return blank + text + blank, key.lower()


@FUZZ
@given(case=wrapped_keys())
def test_every_accepted_shape_gives_the_key_back(case: tuple[str, str]) -> None:
    text, key = case
    assert normalize_private_key(Secret(text), "production", source="s").reveal() == key


def test_a_huge_vault_value_is_refused_before_parsing() -> None:
    with pytest.raises(FormatError, match=r"secret 's' is 1\.0 MiB, far too long"):
        normalize_private_key(Secret("{" * (1 << 20)), "production", source="secret 's'")
