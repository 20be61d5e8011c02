"""Per-file work run concurrently, as ``pull`` and ``lock`` do it."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["each_concurrently"]

T = TypeVar("T")
R = TypeVar("R")


def each_concurrently(
    work: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    *,
    phase: str = "",
    notify: Callable[[str, int, int], None] | None = None,
) -> list[R]:
    """``work`` on every item, at most ``jobs`` at once; the results in ``items``' order.

    ``notify`` is told ``(phase, done, total)`` as items finish. On Ctrl-C, or when
    ``work`` raises, nothing new starts: work already running finishes, and the
    exception propagates.
    """
    if not items:
        return []
    if notify is not None:
        notify(phase, 0, len(items))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(jobs, len(items)))) as pool:
        futures = [pool.submit(work, item) for item in items]
        try:
            for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                future.result()  # a bug stops the run at once
                if notify is not None:
                    notify(phase, done, len(items))
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()  # start no new file; running ones write atomically
            raise
