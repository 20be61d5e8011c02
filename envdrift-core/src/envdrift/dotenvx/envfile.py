"""Env files as dotenvx reads them, and the single-pass rewrite of their values.

dotenvx parses with the classic dotenv line grammar, run as a global multi-line
*JavaScript* regular expression. We express the same grammar with Python's ``re`` and
JavaScript's character classes: ``\\s`` includes U+FEFF (a BOM) but not ``\\x1c``-``\\x1f``
or ``\\x85``; ``^``, ``$`` and ``.`` treat CR, U+2028 and U+2029 as line breaks.

dotenvx rewrites a value by searching the whole file for
``<indent><export >KEY <blanks>=<blanks><q>OLD<q>`` once per key, which is quadratic
(13 s for 1,000 keys). We parse once and, for each assignment, match that pattern
anchored at the assignment itself; the output is the same for every file where
dotenvx's search finds the assignment it meant to change (and, unlike dotenvx, we never
change a look-alike line inside another value).

Nothing here reads keys or does crypto: ``Entry`` values are text, and ``rewrite``
splices replacement text in.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from envdrift.dotenvx.suffix import PUBLIC_KEY_NAME
from envdrift.errors import FormatError

__all__ = [
    "Entry",
    "EnvFile",
    "Span",
    "decode_env_bytes",
    "js_trim",
    "may_span_lines",
    "read_env_text",
    "rewrite",
]

# JavaScript's \s: WhiteSpace plus LineTerminator (ECMA-262), BOM included.
_JS_SPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_S = f"[{_JS_SPACE}]"
_LINE_BREAK = "\n\r\u2028\u2029"
_BOL = f"(?:\\A|(?<=[{_LINE_BREAK}]))"
_EOL = f"(?=[{_LINE_BREAK}]|\\Z)"
_DOT = f"[^{_LINE_BREAK}]"

# The dotenv LINE grammar: indentation, `export `, KEY, `=` or `: `, a value that is
# '…' (with \' inside), "…" (with \" inside), `…`, or an unquoted run without #, CR, LF;
# then blanks and an optional comment up to the end of the line. Quoted values may span
# lines. Group order and greediness follow the original, since they decide matches.
# The patterns with JavaScript's \s are compiled on first use (`_compiled`): their
# classes beyond Latin-1 make compiling them cost ~5 ms, which a run that reads no env
# file (a sync of keys files without quotes) need not pay.
_LINE = (
    f"{_BOL}{_S}*(?:export{_S}+)?(?P<key>[A-Za-z0-9_.-]+)(?:{_S}*={_S}*?|:{_S}+?)"
    f"(?P<value>{_S}*'(?:\\\\'|[^'])*'|{_S}*\"(?:\\\\\"|[^\"])*\"|{_S}*`(?:\\\\`|[^`])*`"
    f"|[^#\\r\\n]+)?{_S}*(?:#{_DOT}*)?{_EOL}"
)
_OUTER_QUOTES = f"{_BOL}(['\"`])([\\s\\S]*)\\1{_EOL}"
_HAS_QUOTE = re.compile("['\"`]")
_CRLF = re.compile(r"\r\n?")
_SPACE_RUN = f"{_S}*"
_EXPORT = f"export{_S}+"
_BLANK_LINE_AFTER_EQUALS = f"{_S}*={_S}*\\n\\n"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def js_trim(text: str) -> str:
    """``String.prototype.trim``: strip JavaScript whitespace (a BOM too) at both ends."""
    return text.strip(_JS_SPACE)


def may_span_lines(text: str) -> bool:
    """Whether an assignment in ``text`` may take in a later line that looks like an
    assignment of its own, which only the parse can tell; decided without the grammar.

    Only a quoted value (which may run over lines) or ``KEY:`` at a line's end (its value
    is the next line) does that, and each needs a quote or a colon on a line that is not
    a comment: a value starts on its key's line or after blank lines, and no key starts
    on a comment line, unless U+2028 or U+2029 (line breaks to dotenv) start a line
    inside it. A quote inside a comment (dotenvx's ``.env.keys`` header has some) is text.
    """
    if "\u2028" in text or "\u2029" in text:
        return True
    return any(
        not line.lstrip(_JS_SPACE).startswith("#") and any(c in line for c in "'\"`:")
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )


def fold_newlines(text: str) -> str:
    """Turn CRLF and lone CR into LF, as dotenv does before parsing for values."""
    return _CRLF.sub("\n", text) if "\r" in text else text


def _postprocess(raw: str, *, expand: bool) -> tuple[str, str]:
    """Return ``(value, quote)`` from a raw value group, as dotenv post-processes it."""
    trimmed = js_trim(raw)
    quote = trimmed[0] if trimmed[:1] in ("'", '"', "`") else ""
    # dotenv applies a global multi-line pattern, ^(['"`])([\s\S]*)\1$, to every
    # value. When the value starts and ends with the same quote its greedy first match
    # is the whole value (the common case, done here by slicing); without a quote it
    # cannot match; anything else takes the pattern itself.
    if quote and len(trimmed) >= 2 and trimmed[-1] == quote:
        value = trimmed[1:-1]
    elif _HAS_QUOTE.search(trimmed):
        value = _compiled(_OUTER_QUOTES).sub(r"\2", trimmed)
    else:
        value = trimmed
    if quote == "'":
        value = value.replace("\\'", "'")
    elif quote == '"' and expand:
        value = value.replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t")
    return value, quote


@dataclass(frozen=True, slots=True)
class Entry:
    """One assignment found in an env file.

    Attributes:
        key: The variable name.
        line: The 1-based line the key is on.
        start: Where the match starts (a line start; may be before blank lines).
        key_start: Where the key starts.
        end: Where the match ends (end of the line, after any comment).
        raw: The value exactly as written (quotes and surrounding blanks included).
        value: The value as dotenv reads it (trimmed, unquoted, ``\\n``/``\\r``/``\\t``
            expanded in double quotes, CRLF folded; never variable-expanded), or
            ``None`` when dotenvx, which reads values from the CRLF-folded text, does
            not see this assignment at all (a ``KEY:`` line can swallow the next line
            once CRLF becomes LF).
    """

    key: str
    line: int
    start: int
    key_start: int
    end: int
    raw: str
    value: str | None

    @property
    def quote(self) -> str:
        """The quote character the value starts with (``'``, ``"``, a backtick or ``""``)."""
        return _postprocess(self.raw, expand=False)[1]

    @property
    def literal(self) -> str:
        """The value with quotes removed but nothing expanded or folded; what dotenvx's
        rewrite searches for."""
        return _postprocess(self.raw, expand=False)[0]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a value can be rewritten in place.

    ``text[key_start:end]`` becomes ``KEY=<quote><new value><quote>`` followed by
    ``newlines`` line feeds; indentation and ``export`` before ``key_start`` stay.
    ``empty`` marks an empty unquoted value, after which dotenvx may restore blank
    lines (``EnvFile.rewrite`` works out how many).
    """

    key_start: int
    end: int
    quote: str
    newlines: int = 0
    empty: bool = False


class EnvFile:
    """The text of an env file and the assignments in it, in file order.

    Args:
        text: The decoded content (a BOM, if any, is kept as U+FEFF).
        path: Where it came from, for messages.
    """

    def __init__(self, text: str, path: Path | None = None) -> None:
        self.text = text
        self.path = path
        self.entries: list[Entry] = list(_scan(text))

    def __repr__(self) -> str:
        return f"EnvFile({str(self.path)!r}, keys={len(self.entries)})"

    @classmethod
    def read(cls, path: Path) -> EnvFile:
        """Read and parse ``path`` (UTF-8, or UTF-16LE with a BOM, as dotenvx reads).

        Raises:
            FileNotFoundError: ``path`` does not exist.
            FormatError: not a regular readable file, or not valid UTF-8.
        """
        return cls(read_env_text(path), path)

    def public_key(self) -> tuple[Entry, str] | None:
        """Return the ``DOTENV_PUBLIC_KEY*`` assignment dotenvx uses, with its value.

        That is the last value of the first ``DOTENV_PUBLIC_KEY*`` name in the file.
        """
        first: str | None = None
        found: Entry | None = None
        for entry in self.entries:
            if entry.key.startswith(PUBLIC_KEY_NAME) and entry.value is not None:
                first = first or entry.key
                if entry.key == first:
                    found = entry
        return None if found is None or found.value is None else (found, found.value)

    def locate(self, entry: Entry) -> Span | None:
        """Find where dotenvx's rewrite would change ``entry``, or ``None`` if it can't.

        dotenvx cannot rewrite ``KEY: value`` lines or single-quoted values holding
        ``\\'``; those (and anything else its pattern misses) give ``None``.
        """
        return _locate(self.text, entry)

    def quote_follows(self, position: int) -> bool:
        """Whether the text after ``position``, blanks and line breaks skipped, is a quote."""
        start = _compiled(_SPACE_RUN).match(self.text, position).end()  # type: ignore[union-attr]
        return self.text[start : start + 1] in ("'", '"', "`")

    def rewrite(self, edits: Iterable[tuple[Entry, Span, str]]) -> str:
        """Return the text with ``edits`` applied, as dotenvx would write it.

        ``edits`` are ``(entry, span, new_value)`` in file order, spans from ``locate``.
        """
        planned = list(edits)
        if any(span.empty for _, span, _ in planned):
            planned = self._restore_blank_lines(planned)
        return rewrite(self.text, planned)

    def _restore_blank_lines(
        self, edits: list[tuple[Entry, Span, str]]
    ) -> list[tuple[Entry, Span, str]]:
        # For an empty unquoted value, dotenvx's pattern swallows the newline after
        # `KEY=`, and it compensates by appending (newlines - 1) line feeds taken from
        # the first `KEY\s*=\s*\n\n` anywhere in the file *as it is at that moment*:
        # after the keys before it (in order of first appearance) and the earlier
        # occurrences of this key were rewritten. A match those rewrites overlapped is
        # gone by then. We reproduce that, matching the original text once per key.
        order: dict[int, tuple[int, int]] = {}
        first: dict[str, int] = {}
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            first.setdefault(entry.key, index)
            seen[entry.key] = seen.get(entry.key, -1) + 1
            order[id(entry)] = (first[entry.key], seen[entry.key])
        starts = [span.key_start for _, span, _ in edits]
        ranks = [order[id(entry)] for entry, _, _ in edits]
        matches: dict[str, list[tuple[int, int, int]]] = {}
        planned: list[tuple[Entry, Span, str]] = []
        for entry, span, value in edits:
            if not span.empty:
                planned.append((entry, span, value))
                continue
            if entry.key not in matches:
                pattern = re.compile(re.escape(entry.key) + _BLANK_LINE_AFTER_EQUALS)
                matches[entry.key] = [
                    (m.start(), m.end(), m.group(0).count("\n"))
                    for m in pattern.finditer(self.text)
                ]
            rank = order[id(entry)]
            newlines = 0
            for start, end, count in matches[entry.key]:
                # Spans don't overlap and are sorted: only the one starting last before
                # `end` can overlap [start, end).
                i = bisect.bisect_left(starts, end) - 1
                overwritten = i >= 0 and edits[i][1].end > start and ranks[i] < rank
                if not overwritten:
                    newlines = count - 1
                    break
            planned.append((entry, replace(span, newlines=newlines), value))
        return planned

    def line_of(self, offset: int) -> int:
        """Return the 1-based line number of ``offset``."""
        return _line_number(self.text, offset)


def decode_env_bytes(data: bytes, path: Path | None = None) -> str:
    """Decode an env file's bytes: UTF-16LE when it starts with that BOM, else UTF-8.

    A UTF-8 BOM is kept as U+FEFF (dotenvx keeps it in place and parses past it).

    Raises:
        FormatError: the bytes are not valid in that encoding (naming the line).
    """
    encoding = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n" if encoding == "utf-8" else b"\n\x00") + 1
        where = f"{path}, line {line}" if path else f"line {line}"
        raise FormatError(
            f"{where}: not valid {encoding.upper()}; re-save the file as UTF-8"
        ) from None


def _line_number(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _scan(text: str) -> Iterator[Entry]:
    # dotenvx finds *values* in the CRLF-folded text but *rewrites* the original text,
    # pairing the two by key and occurrence, so we do the same. Without CR (the usual
    # case) the two parses are one.
    folded: dict[str, list[str]] | None = None
    if "\r" in text:
        folded = {}
        for match in _compiled(_LINE).finditer(fold_newlines(text)):
            folded_value = _postprocess(match.group("value") or "", expand=True)[0]
            folded.setdefault(match.group("key"), []).append(folded_value)
    seen: dict[str, int] = {}
    # Lines are counted incrementally: counting from the start for every match would
    # make the parse quadratic.
    line, counted_to = 1, 0
    for match in _compiled(_LINE).finditer(text):
        key, key_start = match.group("key"), match.start("key")
        line += text.count("\n", counted_to, key_start)
        counted_to = key_start
        raw = match.group("value") or ""
        value: str | None
        if folded is None:
            value = _postprocess(raw, expand=True)[0]
        else:
            index = seen[key] = seen.get(key, -1) + 1
            values = folded.get(key, [])
            value = values[index] if index < len(values) else None
        yield Entry(key, line, match.start(), key_start, match.end(), raw, value)


def _is_eol(text: str, index: int) -> bool:
    return index >= len(text) or text[index] in _LINE_BREAK


def _locate(text: str, entry: Entry) -> Span | None:
    # dotenvx's pattern, anchored at this entry:
    #   ^(\s*)?(export\s+)?KEY\s*=\s*(["'`]?)OLD\3   (plus $ when OLD is empty)
    # emulating the regex engine's backtracking by hand, which is cheaper than
    # compiling a pattern per value.
    key = entry.key
    indent_end = _compiled(_SPACE_RUN).match(text, entry.start).end()  # type: ignore[union-attr]
    export = _compiled(_EXPORT).match(text, indent_end)
    if export is not None and text.startswith(key, export.end()):
        key_start = export.end()
    elif text.startswith(key, indent_end):
        key_start = indent_end
    else:
        return None
    equals = _compiled(_SPACE_RUN).match(text, key_start + len(key)).end()  # type: ignore[union-attr]
    if not text.startswith("=", equals):
        return None
    old = entry.literal
    after_equals = equals + 1
    blanks_end = _compiled(_SPACE_RUN).match(text, after_equals).end()  # type: ignore[union-attr]
    for position in range(blanks_end, after_equals - 1, -1):
        opening = text[position : position + 1]
        for quote in (opening, "") if opening in ("'", '"', "`") else ("",):
            value_start = position + len(quote)
            if not text.startswith(old, value_start):
                continue
            end = value_start + len(old)
            if quote:
                if not text.startswith(quote, end):
                    continue
                end += 1
            if old == "" and not _is_eol(text, end):
                continue
            return Span(key_start, end, quote, empty=old == "" and quote == "")
    return None


def read_env_text(path: Path) -> str:
    """The text of the env file at ``path`` (UTF-8, or UTF-16LE with a BOM), size-limited.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FormatError: not a regular readable file, too large, or not valid text.
    """
    from envdrift._fs import ENV_FILE_LIMIT, FileTooLargeError, read_limited

    try:
        data = read_limited(path, ENV_FILE_LIMIT)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(str(path)) from None
    except IsADirectoryError:
        raise FormatError(f"{path} is a directory, not an env file") from None
    except FileTooLargeError as exc:
        raise FormatError(
            f"{path} is {exc.strerror} for an env file; is this the right file?"
        ) from None
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    return decode_env_bytes(data, path)


def rewrite(text: str, edits: Iterable[tuple[Entry, Span, str]]) -> str:
    """Return ``text`` with each span replaced by ``KEY=<q><value><q>``, in one pass.

    ``edits`` are ``(entry, span, new_value)`` in file order; ``span.quote`` is the
    quote written around ``new_value``. Overlapping spans are a programming error.
    """
    parts: list[str] = []
    cursor = 0
    for entry, span, value in edits:
        if span.key_start < cursor:
            raise ValueError(f"overlapping rewrite at line {entry.line} ({entry.key})")
        parts.append(text[cursor : span.key_start])
        parts.append(f"{entry.key}={span.quote}{value}{span.quote}")
        parts.append("\n" * span.newlines)
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)
