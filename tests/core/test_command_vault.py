"""The ``command`` vault: a secret manager's CLI run without a shell (a small script here).

The real CLIs (``bao``, ``aws``, ``pass``) are driven in ``test_command_e2e.py``.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from envdrift import (
    ConfigError,
    Deadline,
    FormatError,
    NotFoundError,
    PluginRegistry,
    RetryPolicy,
    Secret,
    UnavailableError,
    UnsupportedOperation,
    Vault,
    VaultContext,
    VaultError,
)
from envdrift.builtins.command import CommandVault
from envdrift.testing import VaultContract
from envdrift.testing.contract import SAMPLE_KEY

from tests.core.command_helpers import install_fake_cli, runs


@pytest.fixture
def cli(tmp_path: Path) -> str:
    return str(install_fake_cli(tmp_path))


def make(tmp_path: Path, options: dict[str, Any], **context: Any) -> CommandVault:
    context.setdefault("base_dir", tmp_path)
    vault = PluginRegistry().make_vault("command", options, VaultContext(**context))
    assert isinstance(vault, CommandVault)
    return vault


def fake(tmp_path: Path, cli: str, **options: Any) -> CommandVault:
    """The vault over the fake CLI: ``get``/``put`` unless options say otherwise."""
    options.setdefault("fetch", [cli, "get", "{secret}"])
    options.setdefault("store", [cli, "put", "{secret}"])
    context = options.pop("context", {})
    return make(tmp_path, options, **context)


class TestCommandVaultContract(VaultContract):
    plugin_module = "envdrift.builtins.command"
    entry_point_name = None  # built in: envdrift.plugins.BUILTIN_PLUGINS registers it
    sdk_modules = ("pydantic", "boto3", "hvac", "azure")

    @pytest.fixture
    def vault(self, tmp_path: Path, cli: str) -> Vault:
        return fake(tmp_path, cli)


# -- arguments: no shell, whole-argument placeholders --------------------------------


HOSTILE_NAMES = [
    "a; touch pwned",
    "$(touch pwned)",
    "`touch pwned`",
    "a b\tc\nd",
    "x' && touch pwned '",
    "{environment}",
    "a | tee pwned",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_secret_name_is_one_argument_and_runs_nothing(
    tmp_path: Path, cli: str, name: str
) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "get", "prefix/{secret}"])
    with pytest.raises(NotFoundError):
        vault.fetch(name)
    assert runs(tmp_path)[-1]["argv"][1:] == ["get", f"prefix/{name}"]
    assert not list(tmp_path.rglob("pwned"))


def test_environment_is_substituted_inside_the_argument(tmp_path: Path, cli: str) -> None:
    vault = fake(
        tmp_path,
        cli,
        fetch=[cli, "get", "{environment}/{secret}"],
        context={"environment": "staging"},
    )
    vault.store("staging/app-key", Secret(SAMPLE_KEY))
    assert vault.fetch("app-key").reveal() == SAMPLE_KEY
    assert runs(tmp_path)[-1]["argv"][1:] == ["get", "staging/app-key"]


def test_environment_unknown_here_is_a_config_error(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "get", "{environment}-{secret}"])
    with pytest.raises(ConfigError, match=r"uses \{environment\}"):
        vault.fetch("app")


def test_a_name_that_would_become_an_option_is_refused(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli)
    with pytest.raises(ConfigError, match="read as an option"):
        vault.fetch("--output=/etc/passwd")
    assert runs(tmp_path) == []
    # Inside an argument a leading dash is harmless text.
    prefixed = fake(tmp_path, cli, fetch=[cli, "get", "secret/{secret}"])
    with pytest.raises(NotFoundError):
        prefixed.fetch("-dashed")


def test_the_value_never_travels_in_arguments_or_the_environment(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli)
    marker = "value-marker-" + os.urandom(8).hex()
    vault.store("k", Secret(marker))
    assert vault.fetch("k").reveal() == marker
    logged = json.dumps(runs(tmp_path))
    assert len(runs(tmp_path)) == 2
    assert marker not in logged


def test_relative_program_paths_start_at_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    install_fake_cli(tmp_path / "bin")
    vault = make(tmp_path, {"fetch": ["bin/fake-cli", "get", "{secret}"]})
    with pytest.raises(NotFoundError):
        vault.fetch("x")
    # The program runs in the config folder too (its ./store and ./runs.jsonl are there).
    assert runs(tmp_path)[-1]["argv"][1:] == ["get", "x"]


# -- configuration errors ------------------------------------------------------------


def test_a_string_is_refused_with_the_list_form_to_write(tmp_path: Path, cli: str) -> None:
    with pytest.raises(ConfigError) as info:
        make(tmp_path, {"fetch": "bao kv get -field=value 'secret/{secret}'"})
    message = str(info.value)
    assert "must be a list of arguments, not a string" in message
    assert 'fetch = ["bao", "kv", "get", "-field=value", "secret/{secret}"]' in message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, r"needs a fetch command"),
        ({"fetch": []}, r"non-empty list"),
        ({"fetch": ["x", 3]}, r"fetch\[1\] must be a string, not int"),
        ({"fetch": ["{secret}"]}, r"fetch\[0\] must name the program"),
        ({"fetch": ["x", "{secrt}"]}, r"unknown placeholder \{secrt\}. Did you mean 'secret'\?"),
        ({"fetch": ["x"], "store": "x put"}, r'store = \["x", "put"\]'),
        ({"fetch": ["x"], "not_found_exit_codes": 2}, r"list of exit statuses"),
        ({"fetch": ["x"], "not_found_exit_codes": [0]}, r"from 1 to 255"),
        ({"fetch": ["x"], "transient_stderr": "("}, r"not a valid regular expression"),
        ({"fetch": ["x"], "fetch_cmd": ["x"]}, r"unknown option 'fetch_cmd'"),
    ],
)
def test_bad_options_are_config_errors(
    tmp_path: Path, options: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        make(tmp_path, options)


def test_a_missing_program_is_one_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make(tmp_path, {"fetch": ["no-such-secret-cli", "get", "{secret}"]})
    assert str(info.value) == (
        "vault 'command': the fetch command 'no-such-secret-cli' is not installed or not on "
        "PATH; install it, or give its full path in [vault.command] fetch"
    )


def test_a_missing_store_program_fails_only_storing(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, store=["no-such-secret-cli", "{secret}"])
    vault.check  # noqa: B018 - constructing did not need the store program
    with pytest.raises(ConfigError, match="store command 'no-such-secret-cli' is not installed"):
        vault.store("k", Secret("v"))
    with pytest.raises(ConfigError, match="no-such-secret-cli"):
        vault.check()


def test_a_program_that_is_not_executable_says_chmod(tmp_path: Path) -> None:
    (tmp_path / "get-key").write_text("#!/bin/sh\n")
    with pytest.raises(ConfigError, match=r"is not executable .*chmod \+x"):
        make(tmp_path, {"fetch": ["./get-key", "{secret}"]})


def test_without_store_storing_says_it_is_not_configured(tmp_path: Path, cli: str) -> None:
    vault = make(tmp_path, {"fetch": [cli, "get", "{secret}"]})
    with pytest.raises(UnsupportedOperation, match=r"has no store command.*add store = \["):
        vault.store("k", Secret("v"))
    assert runs(tmp_path) == []


# -- outcomes: value, not found, errors ----------------------------------------------


def test_stdout_is_the_value_exactly(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "print", "{secret}"])
    assert vault.fetch("  DOTENV_PRIVATE_KEY=abc\n").reveal() == "  DOTENV_PRIVATE_KEY=abc\n"


@pytest.mark.parametrize("printed", ["", " \n"])
def test_empty_stdout_is_an_error(tmp_path: Path, cli: str, printed: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "print", printed])
    with pytest.raises(VaultError, match=r"printed nothing \(exit status 0\)") as info:
        vault.fetch("k")
    assert not isinstance(info.value, NotFoundError)


def test_stdout_that_is_not_utf8_is_a_format_error(tmp_path: Path, cli: str) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "k").write_bytes(b"\xff\xfe key")
    with pytest.raises(FormatError, match="not UTF-8"):
        fake(tmp_path, cli).fetch("k")


def test_a_failure_names_command_status_and_masked_stderr(tmp_path: Path, cli: str) -> None:
    # Long stderr keeps its end, where a program says what went wrong.
    stderr = "usage: fake-cli …\\n" * 40 + f"Error: token {SAMPLE_KEY} rejected\\n"
    vault = fake(tmp_path, cli, fetch=[cli, "fail", stderr, "1"])
    with pytest.raises(VaultError) as info:
        vault.fetch("app-key")
    message = str(info.value)
    assert type(info.value) is VaultError
    assert message.startswith(
        "fetch command 'fake-cli' for secret 'app-key' exited with status 1: …"
    )
    assert message.endswith("usage: fake-cli … Error: token *** rejected")
    assert SAMPLE_KEY not in message
    assert "\n" not in message
    assert len(message) < 400


def test_long_stderr_keeps_its_end_and_never_part_of_a_key(tmp_path: Path, cli: str) -> None:
    # 8 KiB of stderr are kept: here the cut falls 20 characters before a key's end, and
    # what follows is blank but for the reason, so the kept part would be shown whole.
    reason = "Error: the real reason"
    stderr = "leading text " + SAMPLE_KEY + " " * (8192 - 20 - len(reason)) + reason
    vault = fake(tmp_path, cli, fetch=[cli, "fail", stderr, "1"])
    with pytest.raises(VaultError) as info:
        vault.fetch("k")
    message = str(info.value)
    assert message == f"fetch command 'fake-cli' for secret 'k' exited with status 1: {reason}"


def test_a_failed_store_masks_the_value_it_was_given(tmp_path: Path, cli: str) -> None:
    value = "not-a-key-but-secret"
    vault = fake(tmp_path, cli, store=[cli, "fail", f"invalid value {value}", "1"])
    with pytest.raises(VaultError) as info:
        vault.store("k", Secret(value))
    assert value not in str(info.value)
    assert "invalid value ***" in str(info.value)


def test_a_signal_is_named(tmp_path: Path) -> None:
    script = tmp_path / "die"
    script.write_text("#!/bin/sh\nkill -TERM $$\n")
    script.chmod(0o755)
    with pytest.raises(VaultError, match="was killed by SIGTERM"):
        make(tmp_path, {"fetch": ["./die", "{secret}"]}).fetch("k")


@pytest.mark.parametrize(
    ("stderr", "status", "rule", "not_found"),
    [
        # The default rule: the wording of the recipes' CLIs, any status but the shell's.
        ("Error: secret app not found", 3, {}, True),
        ("No value found at secret/data/app", 2, {}, True),
        ("Error: app is not in the password store.", 1, {}, True),
        ("An error occurred (ResourceNotFoundException): can't find the secret", 254, {}, True),
        ("permission denied", 2, {}, False),
        ("sh: op: command not found", 127, {}, False),
        # Configured: every condition that is set must hold.
        ("permission denied", 2, {"not_found_exit_codes": [2]}, True),
        ("No value found", 1, {"not_found_exit_codes": [2]}, False),
        (
            "permission denied",
            2,
            {"not_found_exit_codes": [2], "not_found_stderr": "No value"},
            False,
        ),
        ("No value found", 2, {"not_found_exit_codes": [2], "not_found_stderr": "No value"}, True),
        ("missing!", 9, {"not_found_stderr": "missing"}, True),
        ("not found", 3, {"not_found_stderr": ""}, False),
    ],
)
def test_which_failures_mean_not_found(
    tmp_path: Path, cli: str, stderr: str, status: int, rule: dict[str, Any], not_found: bool
) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "fail", stderr, str(status)], **rule)
    with pytest.raises(VaultError) as info:
        vault.fetch("app")
    assert isinstance(info.value, NotFoundError) is not_found
    if not_found:
        assert str(info.value).startswith("secret 'app' not found: fetch command 'fake-cli'")


def test_only_failures_marked_transient_are_retried(tmp_path: Path, cli: str) -> None:
    fast = {"retry": RetryPolicy(retries=2, backoff=0)}
    plain = fake(tmp_path, cli, fetch=[cli, "fail", "busy", "75"], context=fast)
    with pytest.raises(VaultError):
        plain.fetch("k")
    assert len(runs(tmp_path)) == 1

    marked = fake(
        tmp_path,
        cli,
        fetch=[cli, "fail", "server busy, try later", "75"],
        transient_exit_codes=[75],
        transient_stderr="try later",
        context=fast,
    )
    with pytest.raises(UnavailableError, match=r"gave up after 3 attempts"):
        marked.fetch("k")
    assert len(runs(tmp_path)) == 4


# -- bounded runs ------------------------------------------------------------------


def _dead(pid: int) -> bool:
    """Whether ``pid`` is gone (or a zombie), waiting a moment for a SIGKILL to land."""
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_hanging_command_and_its_children_are_stopped_at_the_timeout(
    tmp_path: Path, cli: str
) -> None:
    # Long enough for the script to start its helper on a busy machine.
    vault = fake(tmp_path, cli, fetch=[cli, "hang", "{secret}"], context={"timeout": 3.0})
    started = time.monotonic()
    with pytest.raises(UnavailableError, match=r"did not finish within 3 s and was stopped"):
        vault.fetch("k")
    elapsed = time.monotonic() - started
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert all(_dead(pid) for pid in pids), "the command's process group outlived it"
    assert elapsed < 10, elapsed  # one attempt: a timeout is not retried


def test_a_helper_left_holding_stdout_does_not_hold_envdrift(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "daemon", "{secret}"], context={"timeout": 30.0})
    started = time.monotonic()
    try:
        assert vault.fetch("the-value").reveal() == "the-value"
        assert time.monotonic() - started < 15
    finally:
        os.kill(int((tmp_path / "pids").read_text()), signal.SIGKILL)


def test_cancelling_the_run_stops_a_command_at_once(tmp_path: Path, cli: str) -> None:
    deadline = Deadline()
    vault = fake(tmp_path, cli, fetch=[cli, "hang", "{secret}"], context={"deadline": deadline})
    threading.Timer(0.5, deadline.cancel).start()
    with pytest.raises(UnavailableError, match="the run was interrupted"):
        vault.fetch("k")


def test_endless_output_is_cut_off(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "flood", "{secret}"])
    with pytest.raises(FormatError, match=r"printed more than 64 KiB"):
        vault.fetch("k")


def test_a_command_cannot_stop_to_prompt(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "prompt", "{secret}"], context={"timeout": 30.0})
    started = time.monotonic()
    with pytest.raises(VaultError, match="No such device or address"):
        vault.fetch("k")
    assert time.monotonic() - started < 20


def test_fetch_many_runs_at_most_jobs_commands_at_once(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "slowget", "{secret}"])
    names = [f"k{i}" for i in range(6)]
    results = vault.fetch_many(names, jobs=2)
    assert {n: r.reveal() for n, r in results.items() if isinstance(r, Secret)} == {
        n: n for n in names
    }
    spans = [json.loads(line) for line in (tmp_path / "spans.jsonl").read_text().splitlines()]
    overlap = max(sum(1 for s, e in spans if s <= moment < e) for moment in itertools.chain(*spans))
    assert overlap == 2


def test_describe_names_the_program_not_the_arguments(tmp_path: Path, cli: str) -> None:
    vault = fake(tmp_path, cli, fetch=[cli, "get", "--token=abc", "{secret}"])
    assert vault.describe() == "vault 'command' (fake-cli)"
    assert "abc" not in repr(vault)
