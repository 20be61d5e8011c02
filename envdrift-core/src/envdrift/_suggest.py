"""Wording that messages share: did-you-mean suggestions for misspelled names, counts."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` Did you mean 'x'?`` for the closest choice, or an empty string."""
    import difflib  # only a misspelt name gets here; every run imports this module

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one: ``1 mapping``, ``3 mappings``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
