"""``$VAR`` expansion in env values, as ``dotenvx run`` does it (dotenvx 2.38).

dotenvx expands ``$NAME`` and ``${NAME}`` (with ``:-``, ``-``, ``:+`` and ``+``
defaults) against the variables already known: the process environment and the values
read earlier from the same file; which of the two wins follows ``--overload``. After
expanding it turns ``\\$`` into ``$``. We copy the algorithm step by step, quirks
included (each round replaces the first occurrence of the matched text and starts the
search again from the beginning), so that ``envdrift run`` hands a command the values
``dotenvx run`` would. One difference: a value whose expansion never settles (``A=$B``
with ``B=x$B`` in the environment) stops after ``MAX_ROUNDS`` rounds, where dotenvx
loops forever.

``$(command)`` substitution is deliberately not done (``docs/dotenvx-compat.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["MAX_ROUNDS", "expand", "has_command_substitution", "unescape_dollars"]

#: Expansion rounds before a value is left as it stands (dotenvx has no limit).
MAX_ROUNDS = 1000

_REFERENCE = re.compile(r"(?<!\\)\$\{([^{}]+)\}|(?<!\\)\$([A-Za-z_][A-Za-z0-9_]*)")
_OPERATOR = re.compile(r":\+|\+|:-|-")
_JS_REPLACEMENT = re.compile(r"\$([$&`'])")
# What dotenvx looks for in a single-quoted value to stop expanding (no look-behind).
_LITERAL_REFERENCE = re.compile(r"\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*")


def expand(
    value: str,
    *,
    overload: bool,
    environ: Mapping[str, str],
    running: Mapping[str, str],
    literals: Mapping[str, str],
) -> str:
    """Expand the variable references in ``value`` the way dotenvx does.

    Args:
        value: The value (already decrypted, never single-quoted).
        overload: ``--overload``: values from the file win over the environment.
        environ: The environment the command will get so far.
        running: Values read earlier from the same file.
        literals: Values of single-quoted assignments read so far (never expanded).
    """
    known = {**environ, **running} if overload else {**running, **environ}
    result = value
    for _ in range(MAX_ROUNDS):
        match = _REFERENCE.search(result)
        if match is None:
            break
        body = match.group(1) or match.group(2)
        operator_match = _OPERATOR.search(body)
        operator = operator_match.group(0) if operator_match else None
        # JavaScript's `body.split(null)` splits on the text "null"; dotenvx relies on it.
        parts = body.split(operator if operator is not None else "null")
        name, default = parts[0], (operator or "null").join(parts[1:])
        present = name in known
        current = known.get(name, "")
        if operator == ":-":
            replacement = current or default
        elif operator == "-":
            replacement = current if present else default
        elif operator == ":+":
            replacement = default if current else ""
        elif operator == "+":
            replacement = default if present else ""
        else:
            replacement = current
        result = _replace_first(result, match.group(0), replacement, match.start())
        if (present and result == known[name]) or (
            name in literals and _LITERAL_REFERENCE.search(literals[name])
        ):
            break
    return result


def unescape_dollars(value: str) -> str:
    """Turn ``\\$`` into ``$``, as dotenvx does after expanding."""
    return value.replace("\\$", "$")


def has_command_substitution(value: str) -> bool:
    """Whether dotenvx would try to run a ``$(command)`` inside ``value``."""
    return "$(" in value


def _replace_first(text: str, found: str, replacement: str, hint: int) -> str:
    """``text.replace(found, replacement)`` with JavaScript's rules: the first occurrence
    only, and ``$$``, ``$&``, ``$``` and ``$'`` in ``replacement`` mean what they mean
    to ``String.prototype.replace``."""
    start = text.find(found)
    if start < 0:  # pragma: no cover - `found` was just matched in `text`
        start = hint
    end = start + len(found)

    def special(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind == "$":
            return "$"
        if kind == "&":
            return found
        return text[:start] if kind == "`" else text[end:]

    return text[:start] + _JS_REPLACEMENT.sub(special, replacement) + text[end:]
