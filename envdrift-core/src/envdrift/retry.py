"""Retries, timeouts and the run's deadline: one policy for every vault backend.

Backends make exactly one attempt per request (their SDK's own retries are switched
off), give every request ``VaultContext.timeout``, and report a failure that a repeat
may cure as ``UnavailableError``, with the server's ``Retry-After`` when it sent one.
``Vault.retrying`` runs a request under this module's ``Retrier``, the same way for
every backend, ours and third parties':

* **Backoff with jitter.** The n-th retry waits a random time between half and all of
  ``min(backoff_max, backoff * 2 ** (n - 1))`` seconds (0.25 s, 0.5 s, 1 s, … by
  default), or at least as long as ``Retry-After`` asks.
* **Bounded per call.** At most ``retries`` retries, and a retry starts only when its
  wait plus one full ``timeout`` still fits in the call's budget (``call_budget``: 30 s,
  or three timeouts when that is longer). So a call ends within its budget.
* **Bounded per run.** No call starts after the run's ``Deadline``, and a retry starts
  only when it can end (wait plus one ``timeout``) before it. So vault calls end within
  the deadline plus one request timeout (the timeout is never longer than the deadline).
* **A vault that is down fails fast.** After ``breaker`` calls in a row have each
  failed all their attempts, the vault is taken to be down for the rest of the run:
  later calls fail at once, each with its own error naming the last failure, and calls
  under way stop retrying, instead of each waiting out its own retries.
* **Interruptible.** ``Deadline.cancel()`` (Ctrl-C) ends every wait at once and starts
  no new attempt.

Retries happen at the outermost ``Retrier.call`` of a thread: a backend may wrap its
own ``fetch`` while ``Vault.fetch_many`` wraps each ``fetch`` too, and attempts are never
multiplied. Every retry is logged at DEBUG on ``envdrift.retry`` (``--debug`` shows it)
with what was retried, why and after how long; the reasons are envdrift error messages,
which never carry a secret value.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from envdrift._suggest import counted
from envdrift.errors import EnvdriftError, UnavailableError, VaultError

__all__ = [
    "DEFAULT_CALL_BUDGET",
    "DEFAULT_DEADLINE",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "Deadline",
    "Retrier",
    "RetryPolicy",
    "bounded",
    "parse_retry_after",
]

T = TypeVar("T")

#: Seconds one request may take (connect, then each read) unless configured.
DEFAULT_TIMEOUT = 10.0
#: Retries of a transient failure unless configured (so five attempts in all).
DEFAULT_RETRIES = 4
#: Seconds one call may take in all (attempts and waits) unless configured: enough for
#: every retry of a quick failure, and for a few timed-out attempts.
DEFAULT_CALL_BUDGET = 30.0
#: Seconds a run may spend on vault calls unless configured. A healthy run of hundreds
#: of mappings needs about one second; this only ends runs against a failing vault.
DEFAULT_DEADLINE = 120.0

_log = logging.getLogger("envdrift.retry")
_nesting = threading.local()


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried.

    Attributes:
        retries: Retries after the first attempt (0 switches retrying off).
        call_budget: Seconds one call may take, attempts and waits included; ``None``
            means ``DEFAULT_CALL_BUDGET``, or three request timeouts when longer.
        backoff: The first retry's wait before jitter, in seconds; each retry doubles it.
        backoff_max: The longest wait that backoff alone produces.
        breaker: Calls in a row that must fail all their attempts before the vault is
            taken to be down for the rest of the run (0 never gives up on a vault).
    """

    retries: int = DEFAULT_RETRIES
    call_budget: float | None = None
    backoff: float = 0.25
    backoff_max: float = 4.0
    breaker: int = 5

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must be 0 or more")
        if self.call_budget is not None and self.call_budget <= 0:
            raise ValueError("call_budget must be positive")
        if self.backoff < 0 or self.backoff_max < 0:
            raise ValueError("backoff must not be negative")
        if self.breaker < 0:
            raise ValueError("breaker must be 0 or more")

    def budget(self, timeout: float) -> float:
        """The seconds a call with request timeout ``timeout`` may take in all."""
        if self.call_budget is not None:
            return max(timeout, self.call_budget)
        return max(DEFAULT_CALL_BUDGET, 3 * timeout)

    def wait(self, retry: int, rng: random.Random) -> float:
        """The jittered wait before retry number ``retry`` (1 for the first retry)."""
        ceiling = min(self.backoff_max, self.backoff * 2 ** (retry - 1))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


class Deadline:
    """The end of a run, shared by all its vault calls, and the switch that cancels them.

    Args:
        seconds: How long from now the run may spend on vault calls; ``None`` for no limit.
    """

    def __init__(self, seconds: float | None = None) -> None:
        if seconds is not None and seconds <= 0:
            raise ValueError("a deadline must be positive")
        self.seconds = seconds
        self._end = math.inf if seconds is None else time.monotonic() + seconds
        self._cancelled = threading.Event()

    def remaining(self) -> float:
        """Seconds left (``math.inf`` without a deadline; 0 once cancelled)."""
        if self._cancelled.is_set():
            return 0.0
        return max(0.0, self._end - time.monotonic())

    def cancel(self) -> None:
        """End every wait now and start no new attempt (Ctrl-C)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel()`` was called."""
        return self._cancelled.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; return ``False`` at once if the run is cancelled meanwhile."""
        return not self._cancelled.wait(seconds)

    def __repr__(self) -> str:
        limit = "none" if self.seconds is None else f"{self.seconds:g} s"
        return f"<Deadline {limit}, {self.remaining():.1f} s left>"


def bounded(seconds: float, call: Callable[[], T], *, what: str) -> T:
    """Return ``call()``, or give up on it after ``seconds``.

    For a blocking read with no timeout of its own (a file on a hung network file
    system): it runs on a daemon thread, which a process may exit without. Its
    exceptions reach the caller unchanged. Only for reads: a write given up on could
    still land later.

    Raises:
        UnavailableError: ``call`` had not returned after ``seconds`` (not transient:
            a repeat would hang the same way).
    """
    if seconds == math.inf:
        return call()
    if seconds <= 0:
        raise UnavailableError(
            f"{what}: not started: the run's deadline has passed", transient=False
        )
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name=f"envdrift: {what}", daemon=True).start()
    if not done.wait(seconds):
        raise UnavailableError(
            f"{what}: no answer after {seconds:.3g} s (the timeout, or what was left of the "
            "run's deadline); nothing was read",
            transient=False,
        )
    if failure:
        raise failure[0]
    return outcome[0]


class Retrier:
    """Runs one vault's requests under a ``RetryPolicy``; keeps that vault's breaker.

    Args:
        policy: How to retry.
        timeout: Seconds one attempt may take (the backend sets it on its requests).
        deadline: The run's deadline.
        vault: Names the vault in messages (called only when a message is needed).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        timeout: float,
        deadline: Deadline,
        vault: Callable[[], str] = lambda: "the vault",
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self.deadline = deadline
        self._vault = vault
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._failed_in_a_row = 0
        self._last_failure = ""

    def call(self, request: Callable[[], T], *, what: str) -> T:
        """Return ``request()``, retrying its transient failures under the policy.

        Args:
            request: Makes one attempt; raises ``EnvdriftError`` on failure.
            what: The request in words, e.g. ``read secret 'app-key'``, for messages.

        Raises:
            EnvdriftError: what the last attempt raised; a transient error's message
                then also says how many attempts were made and why they stopped.
        """
        if getattr(_nesting, "active", False):
            return request()  # an outer call owns the retrying
        _nesting.active = True
        try:
            return self._call(request, what)
        finally:
            _nesting.active = False

    def _call(self, request: Callable[[], T], what: str) -> T:
        self._refuse_if_down(what)
        started = time.monotonic()
        budget = self.policy.budget(self.timeout)
        attempt = 0
        while True:
            attempt += 1
            try:
                result = request()
            except EnvdriftError as exc:
                if not (isinstance(exc, VaultError) and exc.transient):
                    self._settled()
                    raise
                elapsed = time.monotonic() - started
                wait, stop = self._next_wait(exc, attempt, elapsed, budget)
                if stop:
                    note = f"gave up after {counted(attempt, 'attempt')} in {elapsed:.1f} s: {stop}"
                    failure = _noted(exc, note)
                    self._failed(failure)
                    _log.debug("%s: %s", what, failure)
                    raise failure.with_traceback(exc.__traceback__) from exc.__cause__
                _log.debug(
                    "%s: attempt %d of %d failed, retrying in %.2f s: %s",
                    what,
                    attempt,
                    self.policy.retries + 1,
                    wait,
                    exc,
                )
                if not self.deadline.sleep(wait):
                    failure = _noted(exc, f"interrupted after {counted(attempt, 'attempt')}")
                    raise failure.with_traceback(exc.__traceback__) from exc.__cause__
            else:
                self._settled()
                if attempt > 1:
                    _log.debug("%s: succeeded at attempt %d", what, attempt)
                return result

    def _next_wait(
        self, exc: VaultError, attempt: int, elapsed: float, budget: float
    ) -> tuple[float, str]:
        """Return ``(wait, "")`` to retry after ``wait`` seconds, or ``(0, why not)``."""
        if self.deadline.cancelled:
            return 0.0, "the run was interrupted"
        down = self._down()
        if down:
            # Other calls have meanwhile found the vault down: stop retrying this one too.
            return 0.0, f"meanwhile {down}"
        if attempt > self.policy.retries:
            return 0.0, (
                "retries are off (--retries 0)" if not self.policy.retries else "no retries left"
            )
        wait = self.policy.wait(attempt, self._rng)
        asked = getattr(exc, "retry_after", None)
        if isinstance(asked, int | float) and asked > wait:
            wait = float(asked)
        if elapsed + wait + self.timeout > budget:
            if isinstance(asked, int | float) and asked >= wait:
                return 0.0, (
                    f"the vault asked to wait {asked:g} s before retrying, beyond the "
                    f"call's limit of {budget:g} s"
                )
            return 0.0, f"another attempt would exceed the call's limit of {budget:g} s"
        if wait + self.timeout > self.deadline.remaining():
            limit = self.deadline.seconds
            return 0.0, f"another attempt would pass the run's deadline ({limit:g} s)"
        return wait, ""

    # -- the breaker -----------------------------------------------------------------

    def _refuse_if_down(self, what: str) -> None:
        if self.deadline.cancelled:
            raise UnavailableError(f"not tried: the run was interrupted before it could {what}")
        if self.deadline.remaining() <= 0:
            raise UnavailableError(
                f"not tried: the run's deadline ({self.deadline.seconds:g} s) passed before "
                f"envdrift could {what} in {self._vault()}"
            )
        down = self._down()
        if down:
            with self._lock:
                last = self._last_failure
            raise UnavailableError(f"not tried: {down}; the last failure: {last}")

    def _down(self) -> str:
        """Why the vault is taken to be down (the breaker is open), or ``""``."""
        with self._lock:
            count = self._failed_in_a_row
        if not self.policy.breaker or count < self.policy.breaker:
            return ""
        return (
            f"{self._vault()} failed {counted(count, 'call')} in a row, so it is taken to be down "
            "for the rest of this run"
        )

    def _failed(self, error: EnvdriftError) -> None:
        with self._lock:
            self._failed_in_a_row += 1
            self._last_failure = str(error)
            opened = self._failed_in_a_row == self.policy.breaker
        if opened:
            _log.debug(
                "%s failed %d calls in a row; failing its remaining calls at once",
                self._vault(),
                self.policy.breaker,
            )

    def _settled(self) -> None:
        # The vault answered (a value, or a definite "no"): it is not down.
        with self._lock:
            self._failed_in_a_row = 0


def _noted(exc: EnvdriftError, note: str) -> EnvdriftError:
    """A copy of ``exc`` whose message ends with ``(note)``; attributes are kept."""
    noted = copy.copy(exc)
    noted.args = (f"{exc} ({note})",)
    return noted


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date), else ``None``."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        import email.utils  # an HTTP date: rare, and the import is not free

        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)
