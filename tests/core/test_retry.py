"""``envdrift.retry``: backoff, Retry-After, per-call and per-run bounds, the breaker.

The requests here are plain functions that fail on cue (the backends' own tests drive
the same retrier through real servers and the fault proxy); times are kept to tenths of
a second and asserted with generous bounds, never as performance targets.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from envdrift import (
    Deadline,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    Secret,
    UnavailableError,
    Vault,
    VaultContext,
    parse_retry_after,
)
from envdrift.retry import Retrier

from tests.core.sync_helpers import KEY_A, LatencyPlugin, Project, registry_with

FAST = RetryPolicy(retries=4, backoff=0.01, backoff_max=0.02)


class Flaky:
    """A request that raises the given errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: Exception, delay: float = 0.0) -> None:
        self.errors = list(errors)
        self.delay = delay
        self.calls = 0
        self.started: list[float] = []

    def __call__(self) -> str:
        self.calls += 1
        self.started.append(time.monotonic())
        time.sleep(self.delay)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def retrier(
    policy: RetryPolicy = FAST, *, timeout: float = 1.0, deadline: Deadline | None = None
) -> Retrier:
    return Retrier(policy, timeout=timeout, deadline=deadline or Deadline(), vault=lambda: "v")


def down(text: str = "HTTP 503", **kwargs: Any) -> UnavailableError:
    return UnavailableError(f"vault v failed: {text}", **kwargs)


# -- retrying ----------------------------------------------------------------------------


def test_transient_failures_are_retried_until_one_succeeds() -> None:
    request = Flaky(down(), down(), down())
    assert retrier().call(request, what="read secret 'k'") == "ok"
    assert request.calls == 4


@pytest.mark.parametrize(
    "error", [NotFoundError("gone"), PermissionDeniedError("no"), down(transient=False)]
)
def test_definite_answers_are_not_retried(error: Exception) -> None:
    request = Flaky(error)
    with pytest.raises(type(error)) as info:
        retrier().call(request, what="read")
    assert request.calls == 1
    assert info.value is error  # unchanged: no note, same object


def test_bugs_pass_through_untouched() -> None:
    request = Flaky(RuntimeError("plugin bug"))
    with pytest.raises(RuntimeError, match="plugin bug"):
        retrier().call(request, what="read")
    assert request.calls == 1


def test_retries_are_bounded_and_the_error_says_how_it_ended() -> None:
    request = Flaky(*[down() for _ in range(10)])
    with pytest.raises(UnavailableError) as info:
        retrier(RetryPolicy(retries=2, backoff=0.01)).call(request, what="read")
    assert request.calls == 3
    message = str(info.value)
    assert message.startswith("vault v failed: HTTP 503 (gave up after 3 attempts in ")
    assert message.endswith(" s: no retries left)")
    assert info.value.transient  # still transient: a later run may succeed


def test_retries_off() -> None:
    request = Flaky(down())
    with pytest.raises(UnavailableError, match=r"gave up after 1 attempt in .*retries are off"):
        retrier(RetryPolicy(retries=0)).call(request, what="read")
    assert request.calls == 1


def test_backoff_doubles_with_jitter_between_half_and_all() -> None:
    policy = RetryPolicy(backoff=0.25, backoff_max=4.0)
    rng = random.Random(1)
    for retry, ceiling in [(1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (5, 4.0), (9, 4.0)]:
        waits = [policy.wait(retry, rng) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 4  # jittered, not constant


def test_waits_between_attempts_follow_the_backoff() -> None:
    request = Flaky(down(), down())
    retrier(RetryPolicy(retries=2, backoff=0.1, backoff_max=1.0)).call(request, what="read")
    gaps = [b - a for a, b in zip(request.started, request.started[1:], strict=False)]
    assert 0.05 <= gaps[0] <= 0.5  # 0.05-0.1 s, plus scheduling
    assert 0.1 <= gaps[1] <= 0.6  # 0.1-0.2 s


def test_retry_after_is_honoured() -> None:
    request = Flaky(down(retry_after=0.3))
    retrier().call(request, what="read")
    assert request.started[1] - request.started[0] >= 0.3


def test_retry_after_beyond_the_call_budget_gives_up_at_once() -> None:
    request = Flaky(down("429 throttled", retry_after=60))
    started = time.monotonic()
    with pytest.raises(UnavailableError) as info:
        retrier(timeout=1.0).call(request, what="read")
    assert time.monotonic() - started < 1
    assert request.calls == 1
    assert "the vault asked to wait 60 s before retrying, beyond the call's limit of 30 s" in str(
        info.value
    )


def test_a_call_ends_within_its_budget() -> None:
    # Each attempt takes the whole 0.2 s timeout and fails; the call may take 1 s.
    request = Flaky(*[down("timed out") for _ in range(20)], delay=0.2)
    policy = RetryPolicy(retries=20, call_budget=1.0, backoff=0.01, backoff_max=0.01)
    started = time.monotonic()
    with pytest.raises(UnavailableError, match=r"another attempt would exceed the call's limit"):
        retrier(policy, timeout=0.2).call(request, what="read")
    # A retry starts only if it can end within the budget (slack: a loaded machine may
    # stretch each 0.2 s attempt).
    assert time.monotonic() - started <= 1.0 + 0.3
    assert 2 <= request.calls <= 4


def test_the_default_budget_is_30_s_or_three_timeouts() -> None:
    assert RetryPolicy().budget(1.0) == 30.0
    assert RetryPolicy().budget(10.0) == 30.0
    assert RetryPolicy().budget(20.0) == 60.0
    assert RetryPolicy(call_budget=5).budget(10.0) == 10.0  # never less than one attempt


def test_no_retry_goes_past_the_run_deadline() -> None:
    deadline = Deadline(0.5)
    started = time.monotonic()
    request = Flaky(*[down() for _ in range(100)], delay=0.05)
    policy = RetryPolicy(retries=100, call_budget=60, backoff=0.01, backoff_max=0.01)
    with pytest.raises(UnavailableError, match=r"would pass the run's deadline \(0\.5 s\)"):
        retrier(policy, timeout=0.1, deadline=deadline).call(request, what="read")
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed <= 0.5 + 0.2  # retried until close to the deadline, not past it
    assert request.calls >= 3


def test_no_call_starts_after_the_deadline() -> None:
    deadline = Deadline(0.05)
    time.sleep(0.06)
    request = Flaky()
    with pytest.raises(
        UnavailableError,
        match=r"deadline \(0\.05 s\) passed before envdrift could read secret 'k' in v$",
    ):
        retrier(timeout=0.01, deadline=deadline).call(request, what="read secret 'k'")
    assert request.calls == 0


def test_cancelling_ends_a_wait_at_once() -> None:
    deadline = Deadline()
    request = Flaky(down(retry_after=30))
    policy = RetryPolicy(retries=1, call_budget=100)
    threading.Timer(0.2, deadline.cancel).start()
    started = time.monotonic()
    with pytest.raises(UnavailableError, match=r"interrupted after 1 attempt"):
        retrier(policy, deadline=deadline).call(request, what="read")
    assert time.monotonic() - started < 2
    with pytest.raises(UnavailableError, match="not tried: the run was interrupted"):
        retrier(policy, deadline=deadline).call(request, what="read")


# -- the breaker -------------------------------------------------------------------------


def test_a_vault_down_for_several_calls_fails_the_rest_at_once() -> None:
    policy = RetryPolicy(retries=1, backoff=0.01, breaker=3)
    shared = retrier(policy)
    for _ in range(3):
        with pytest.raises(UnavailableError, match="gave up after 2 attempts"):
            shared.call(Flaky(down("connection refused"), down("connection refused")), what="r")
    untried = Flaky()
    with pytest.raises(UnavailableError) as info:
        shared.call(untried, what="read")
    assert untried.calls == 0
    message = str(info.value)
    assert message.startswith("not tried: v failed 3 calls in a row, so it is taken to be down")
    assert "the last failure: vault v failed: connection refused (gave up after 2 attempts" in (
        message
    )


def test_calls_under_way_stop_retrying_once_the_vault_is_taken_to_be_down() -> None:
    shared = retrier(RetryPolicy(retries=50, backoff=0.1, backoff_max=0.1, breaker=1))
    slow = Flaky(*[down("connection refused") for _ in range(60)])
    messages: list[str] = []

    def call_under_way() -> None:
        with pytest.raises(UnavailableError) as info:
            shared.call(slow, what="read secret 'b'")
        messages.append(str(info.value))

    thread = threading.Thread(target=call_under_way)
    thread.start()
    time.sleep(0.15)  # 'b' is retrying
    # Another call gives up at once (the vault asks for more than the call may take),
    # which opens the breaker: 'b' stops at its next retry instead of making 50.
    with pytest.raises(UnavailableError):
        shared.call(Flaky(down(retry_after=600)), what="read secret 'a'")
    thread.join(timeout=10)
    assert slow.calls < 10
    assert "meanwhile v failed 1 call in a row, so it is taken to be down" in messages[0]


def test_an_answer_in_between_keeps_the_breaker_closed() -> None:
    policy = RetryPolicy(retries=0, breaker=2)
    shared = retrier(policy)
    for _ in range(5):
        with pytest.raises(UnavailableError):
            shared.call(Flaky(down()), what="r")
        with pytest.raises(NotFoundError):  # the vault answered: it is up
            shared.call(Flaky(NotFoundError("gone")), what="r")
    assert shared.call(Flaky(), what="r") == "ok"


# -- nesting and the Vault API -------------------------------------------------------------


class CountingVault(Vault):
    """A vault whose ``fetch`` fails transiently ``failures[name]`` times, then answers."""

    name = "counting"
    option_keys = frozenset()

    def __init__(self, context: VaultContext, failures: dict[str, int]) -> None:
        super().__init__({}, context)
        self.failures = dict(failures)
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def store(self, name: str, value: Secret) -> None:
        raise AssertionError("these tests only read")

    def fetch(self, name: str) -> Secret:
        # Wrapped here as a backend does; fetch_many wraps it again: no multiplication.
        return self.retrying(lambda: self._once(name), what=f"read secret {name!r}")

    def _once(self, name: str) -> Secret:
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            left = self.failures.get(name, 0)
            self.failures[name] = left - 1
        if left > 0:
            raise UnavailableError(f"vault 'counting' is busy reading {name!r}")
        if name.startswith("gone"):
            raise NotFoundError(f"secret {name!r} not found")
        return Secret(f"value of {name}")


def counting(failures: dict[str, int], **context: Any) -> CountingVault:
    context.setdefault("retry", FAST)
    return CountingVault(VaultContext(base_dir=Path.cwd(), **context), failures)


def test_fetch_many_retries_each_secret_on_its_own() -> None:
    vault = counting({"a": 2, "b": 0, "c": 9})
    results = vault.fetch_many(["a", "b", "c", "gone-d"], jobs=4)
    assert isinstance(results["a"], Secret)
    assert isinstance(results["b"], Secret)
    assert isinstance(results["c"], UnavailableError)
    assert isinstance(results["gone-d"], NotFoundError)
    # Five attempts each at most, although fetch and fetch_many both retry.
    assert vault.calls == {"a": 3, "b": 1, "c": 5, "gone-d": 1}


def test_a_direct_fetch_retries_too() -> None:
    vault = counting({"a": 3})
    assert vault.fetch("a").reveal() == "value of a"
    assert vault.calls == {"a": 4}


def test_retries_show_in_the_debug_log_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="envdrift")
    vault = counting({"a": 1, "c": 9})
    vault.fetch_many(["a", "c"])
    text = caplog.text
    assert "read secret 'a': attempt 1 of 5 failed, retrying in 0.0" in text
    assert "vault 'counting' is busy reading 'a'" in text
    assert "read secret 'a': succeeded at attempt 2" in text
    assert "read secret 'c': vault 'counting' is busy reading 'c' (gave up after 5 attempts" in text
    assert "value of" not in text
    assert all(record.name == "envdrift.retry" for record in caplog.records)


def test_each_vault_has_its_own_breaker_and_the_run_one_deadline() -> None:
    deadline = Deadline(60)
    policy = RetryPolicy(retries=0, breaker=1)
    first = counting({"x": 1}, deadline=deadline, retry=policy)
    second = counting({}, deadline=deadline, retry=policy)
    with pytest.raises(UnavailableError, match="gave up"):
        first.fetch("x")
    with pytest.raises(
        UnavailableError, match="not tried: vault 'counting' failed 1 call in a row"
    ):
        first.fetch("x")
    assert second.fetch("x").reveal() == "value of x"
    deadline.cancel()
    with pytest.raises(UnavailableError, match="interrupted"):
        second.fetch("y")


# -- Retry-After -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 0.5 ", 0.5), ("-4", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 28 <= seconds <= 31
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past) == 0.0


@pytest.mark.parametrize("bad", ["nan", "inf", "Mon, 99 Foo 2026 00:00:00 GMT"])
def test_parse_retry_after_rejects_nonsense(bad: str) -> None:
    assert parse_retry_after(bad) is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: RetryPolicy(retries=-1),
        lambda: RetryPolicy(call_budget=0),
        lambda: RetryPolicy(backoff=-1),
        lambda: RetryPolicy(breaker=-1),
        lambda: Deadline(0),
    ],
)
def test_nonsense_limits_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="must"):
        make()


# -- configuration: [vault] and the command line ----------------------------------------


def _project(root: Path, vault_keys: str = "") -> LatencyPlugin:
    project = Project(root)
    project.secret("k", KEY_A)
    project.service("s")
    project.map("k", "s")
    path = project.write_config()
    path.write_text(path.read_text().replace("[vault]\n", f"[vault]\n{vault_keys}", 1))
    return LatencyPlugin()


def _context(plugin: LatencyPlugin) -> VaultContext:
    (vault,) = plugin.instances
    return vault.context


@pytest.mark.parametrize(
    ("vault_keys", "flags", "expected"),
    [
        ("", [], (10.0, 4, 120.0)),
        ("timeout = 2.5\nretries = 1\ndeadline = 30\n", [], (2.5, 1, 30.0)),
        ("timeout = 2.5\nretries = 1\n", ["--timeout", "4", "--retries", "0"], (4.0, 0, 120.0)),
        ("", ["--deadline", "3"], (3.0, 4, 3.0)),  # a request never outlasts the run
    ],
)
def test_limits_come_from_the_file_then_the_command_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    envdrift_cli: Callable[..., Result],
    vault_keys: str,
    flags: list[str],
    expected: tuple[float, int, float],
) -> None:
    plugin = _project(tmp_path, vault_keys)
    monkeypatch.chdir(tmp_path)
    result = envdrift_cli("sync", *flags, registry=registry_with(plugin))
    assert result.exit_code == 0, result.output
    context = _context(plugin)
    assert (context.timeout, context.retry.retries, context.deadline.seconds) == expected


@pytest.mark.parametrize(
    ("vault_keys", "message"),
    [
        ("timeout = 0\n", "vault.timeout: must be a number of seconds above 0, at most 3600"),
        ("retries = 50\n", "vault.retries: must be an integer between 0 and 20"),
        ("deadline = 'soon'\n", "vault.deadline: expected a number, got a string"),
    ],
)
def test_bad_limits_in_the_file_are_config_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    envdrift_cli: Callable[..., Result],
    vault_keys: str,
    message: str,
) -> None:
    plugin = _project(tmp_path, vault_keys)
    monkeypatch.chdir(tmp_path)
    result = envdrift_cli("sync", registry=registry_with(plugin))
    assert result.exit_code == 2
    assert f"Error: envdrift.toml: {message}" in result.stderr


@pytest.mark.parametrize("flag", [["--timeout", "0"], ["--retries", "21"], ["--deadline", "-1"]])
def test_bad_limits_on_the_command_line_are_usage_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    envdrift_cli: Callable[..., Result],
    flag: list[str],
) -> None:
    plugin = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = envdrift_cli("sync", *flag, registry=registry_with(plugin))
    assert result.exit_code == 2
    assert f"Invalid value for '{flag[0]}'" in result.stderr
