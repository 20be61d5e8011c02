"""Helpers for tests that hand envdrift files that could make it hang."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def returns_within(seconds: float, call: Callable[[], T]) -> T:
    """Return ``call()``, or fail the test if it is still running after ``seconds``.

    The call runs on a daemon thread, so a call that hangs (a FIFO opened for reading)
    fails the test instead of hanging the whole run.
    """
    outcome: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test thread
            error.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError(f"still waiting after {seconds:g} s: it blocks")
    if error:
        raise error[0]
    return outcome[0]
