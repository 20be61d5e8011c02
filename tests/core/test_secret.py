"""``Secret``: a value that never shows itself (repr, str, format, pickle, copy), fingerprints."""

from __future__ import annotations

import copy
import pickle

import pytest
from envdrift import Secret


def test_repr_str_and_format_hide_the_value() -> None:
    secret = Secret("hunter2-value")
    shown_forms = [repr(secret), str(secret), f"{secret}", f"{secret!r}"]
    shown_forms.append("{}".format(secret))  # noqa: UP032 - str.format is a separate path
    for shown in shown_forms:
        assert "hunter2" not in shown
    assert secret.reveal() == "hunter2-value"


def test_equality_compares_values() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert len({Secret("a"), Secret("a")}) == 1


def test_redacted_fingerprint_depends_on_salt_not_on_plain_value() -> None:
    secret = Secret("abc")
    one = secret.redacted(b"salt-1")
    assert one.startswith("<redacted len=3 sha=")
    assert one != secret.redacted(b"salt-2")
    assert "abc" not in one


def test_cannot_be_pickled_or_copied_into_logs() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))
    with pytest.raises(TypeError):
        copy.copy(Secret("x"))


def test_only_strings() -> None:
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
