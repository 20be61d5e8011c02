"""The env-file parser (JavaScript regex semantics) and the single-pass rewrite."""

from __future__ import annotations

import pytest
from envdrift.dotenvx.envfile import EnvFile, Span, decode_env_bytes, js_trim, rewrite
from envdrift.errors import FormatError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def values(text: str) -> list[tuple[str, str | None]]:
    return [(e.key, e.value) for e in EnvFile(text).entries]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1\nB=2", [("A", "1"), ("B", "2")]),
        ("export A=1", [("A", "1")]),
        ("  A = spaced  \n", [("A", "spaced")]),
        ("A=abc#def", [("A", "abc")]),
        ('A="abc#def" # c', [("A", "abc#def")]),
        ("A='it\\'s'", [("A", "it's")]),
        ('A="a\\nb\\tc"', [("A", "a\nb\tc")]),
        ("A='a\\nb'", [("A", "a\\nb")]),
        ('A="say \\"hi\\""', [("A", 'say \\"hi\\"')]),
        ("A=`tick`", [("A", "tick")]),
        ('A="multi\nline"\nB=2', [("A", "multi\nline"), ("B", "2")]),
        ("A=\nB=2", [("A", ""), ("B", "2")]),
        ("A: yaml", [("A", "yaml")]),
        ("# A=1\n", []),
        ("A=1\r\nB=2\r\n", [("A", "1"), ("B", "2")]),
        ('A="x\r\ny"\r\n', [("A", "x\ny")]),
        ("\ufeffA=1", [("A", "1")]),
        # JS \s holds U+FEFF but not \x1c; \u2028 ends a line for ^ and $.
        ("A=\ufeff1\ufeff", [("A", "1")]),
        ("A=\x1cx\x1c", [("A", "\x1cx\x1c")]),
        ("A=1\u2028B=2", [("A", "1\u2028B=2")]),
        ("a.b-c=1", [("a.b-c", "1")]),
        ("A=1\nA=2", [("A", "1"), ("A", "2")]),
    ],
)
def test_values(text: str, expected: list[tuple[str, str]]) -> None:
    assert values(text) == expected


def test_yaml_line_swallows_next_line_only_in_crlf_folded_view() -> None:
    # dotenvx reads values from the CRLF-folded text, where `A:` takes the next line
    # as its value; B then does not exist for dotenvx, so its value is None here.
    env = EnvFile("A:\r\nB=secret\r\n")
    assert [(e.key, e.value) for e in env.entries] == [("A", "B=secret"), ("B", None)]


def test_line_numbers() -> None:
    env = EnvFile('# c\nA=1\n\nB="x\ny"\nC=3\r\nD=4')
    assert [(e.key, e.line) for e in env.entries] == [("A", 2), ("B", 4), ("C", 6), ("D", 7)]


def test_js_trim_includes_bom_and_nbsp() -> None:
    assert js_trim("\ufeff\xa0 x \u3000\n") == "x"
    assert js_trim("\x1cx") == "\x1cx"


def test_public_key_is_last_value_of_first_name() -> None:
    env = EnvFile("DOTENV_PUBLIC_KEY_A=1\nDOTENV_PUBLIC_KEY_B=2\nDOTENV_PUBLIC_KEY_A=3\n")
    found = env.public_key()
    assert found is not None
    assert (found[0].key, found[1]) == ("DOTENV_PUBLIC_KEY_A", "3")
    assert EnvFile("A=1").public_key() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1\n", "A=T\n"),
        ("  export A = 1  # c\n", "  export A=T  # c\n"),
        ('A = "x y" # c\n', 'A="T" # c\n'),
        ("A='x'\n", "A='T'\n"),
        ("A=`x`\n", "A=`T`\n"),
        ("A=abc#def\n", "A=T#def\n"),
        ('A="multi\nline"\nB=2\n', 'A="T"\nB=T\n'),
        # dotenvx puts back the blank lines its pattern swallows after an empty value
        ("A=\n\nB=2\n", "A=T\n\nB=T\n"),
        ("A=\r\n\r\nB=2\r\n", "A=T\nB=T\r\n"),
        ("A=1\r\nB=2", "A=T\r\nB=T"),
    ],
)
def test_rewrite_like_dotenvx(text: str, expected: str) -> None:
    env = EnvFile(text)
    edits = []
    for entry in env.entries:
        span = env.locate(entry)
        assert span is not None
        edits.append((entry, span, "T"))
    assert env.rewrite(edits) == expected


@pytest.mark.parametrize("text", ["A: yaml\n", "A='it\\'s'\n", "A: 'x'\n"])
def test_lines_dotenvx_cannot_rewrite(text: str) -> None:
    env = EnvFile(text)
    assert env.locate(env.entries[0]) is None


def test_rewrite_refuses_overlaps() -> None:
    env = EnvFile("A=1\n")
    entry = env.entries[0]
    with pytest.raises(ValueError, match="overlapping"):
        rewrite(env.text, [(entry, Span(0, 3, ""), "x"), (entry, Span(1, 3, ""), "y")])


def test_decode_keeps_bom_and_reads_utf16() -> None:
    assert decode_env_bytes(b"\xef\xbb\xbfA=1") == "\ufeffA=1"
    assert decode_env_bytes("\ufeffA=é".encode("utf-16-le")) == "\ufeffA=é"


def test_invalid_utf8_names_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\nB=\xff\n")
    with pytest.raises(FormatError, match=r"\.env, line 2: not valid UTF-8"):
        EnvFile.read(path)


def test_big_file_parses_in_one_pass() -> None:
    text = "".join(f'KEY_{i:05}="value number {i}"\n' for i in range(5000))
    env = EnvFile(text)
    assert len(env.entries) == 5000
    assert env.entries[-1].line == 5000


# -- properties ------------------------------------------------------------------

_KEYS = st.sampled_from(["A", "B", "KEY_1", "a.b-c", "X_PLAIN"])
_VALUE_TEXT = st.lists(
    st.sampled_from(
        [
            "x",
            "abc def",
            " pad ",
            "a#b",
            "a=b",
            "é🔑",
            "$HOME",
            "it's",
            'say "hi"',
            "\\n",
            "line1\nline2",
            "back`tick",
            "\\",
            "\t",
            "encrypted:QUJD",
        ]
    ),
    max_size=3,
).map("".join)


@st.composite
def env_texts(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# comment", "   ", "#!/bin/sh"])))
            continue
        indent = draw(st.sampled_from(["", "  ", "\t", "\ufeff"]))
        export = draw(st.sampled_from(["", "export "]))
        sep = draw(st.sampled_from(["=", " = ", "= ", ": "]))
        quote = draw(st.sampled_from(["", '"', "'", "`"]))
        tail = draw(st.sampled_from(["", " ", " # c"]))
        value = draw(_VALUE_TEXT)
        lines.append(f"{indent}{export}{draw(_KEYS)}{sep}{quote}{value}{quote}{tail}")
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(lines) + draw(st.sampled_from(["", eol]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env_texts())
def test_rewrite_then_parse_is_stable(text: str) -> None:
    """Rewriting values never disturbs the other assignments or the text around them."""
    env = EnvFile(text)
    edits = []
    for index, entry in enumerate(env.entries):
        span = env.locate(entry) if entry.value is not None else None
        if span is not None:
            edits.append((entry, span, f"T{index}"))
    rewritten = EnvFile(env.rewrite(edits))
    replaced = {id(entry): token for entry, _, token in edits}
    before = [(e.key, replaced.get(id(e), e.value)) for e in env.entries]
    after = [(e.key, e.value) for e in rewritten.entries]
    assert after == before
    # Rewriting the same tokens again changes nothing: the operation is idempotent.
    again = [
        (e, s, e.value)
        for e in rewritten.entries
        if e.value is not None and (s := rewritten.locate(e))
    ]
    assert rewritten.rewrite(again) == rewritten.text
