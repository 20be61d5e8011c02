"""The ``envdrift`` command itself: ``--version``, ``--help`` and every subcommand's help."""

from __future__ import annotations

import inspect
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from envdrift.cli import COMMANDS, SUMMARIES, cli
from envdrift.testing.fixtures import CliRunnerFixture


def test_version(envdrift_cli: CliRunnerFixture) -> None:
    result = envdrift_cli("--version")
    assert result.exit_code == 0
    # What pip shows for the installed distribution, not a constant the test repeats.
    assert result.stdout.strip() == f"envdrift {version('envdrift-core')}"


def test_help_lists_each_command_by_its_own_summary(envdrift_cli: CliRunnerFixture) -> None:
    result = envdrift_cli("--help")
    assert result.exit_code == 0
    listed = " ".join(result.stdout.split())  # write_dl wraps long summaries
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        first = inspect.cleandoc(command.help or "").split("\n\n")[0]
        sentence = " ".join(first.split()).split(". ")[0].rstrip(".") + "."
        assert f"{name} {sentence}" in listed, name


def test_a_command_missing_from_the_generated_summaries_is_listed_by_its_own_help(
    envdrift_cli: CliRunnerFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As for a command added since scripts/docs_cog.py last wrote SUMMARIES.
    monkeypatch.delitem(SUMMARIES, "sync")
    result = envdrift_cli("--help")
    assert result.exit_code == 0
    listed = " ".join(result.stdout.split())
    assert "sync Fetch each mapping's private key from the vault into its folder's" in listed


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_subcommand_has_working_help(name: str, envdrift_cli: CliRunnerFixture) -> None:
    # Lazy loading hides import errors until a command runs; --help makes each one load.
    result = envdrift_cli(name, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout


def test_every_path_parameter_reaches_its_command_as_a_pathlib_path(tmp_path: Path) -> None:
    # The commands declare paths without importing pathlib (_options.PathType).
    checked = []
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        for param in command.params:
            if isinstance(param.type, click.Path):
                value = param.type.convert(str(tmp_path / "x"), param, None)
                assert type(value) is type(tmp_path), (name, param.name)
                assert value == tmp_path / "x"
                checked.append(f"{name} {param.name}")
    assert {"sync config_file", "rotate file", "decrypt files"} <= set(checked)


def test_unknown_command_is_a_usage_error(envdrift_cli: CliRunnerFixture) -> None:
    result = envdrift_cli("frobnicate")
    assert result.exit_code == 2


@pytest.mark.parametrize("option", ["--timeout", "--deadline"])
@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "inf"])
@pytest.mark.parametrize("command", ["sync", "vault-push", "rotate .env"])
def test_seconds_that_are_not_numbers_are_usage_errors(
    envdrift_cli, command: str, option: str, value: str
) -> None:  # type: ignore[no-untyped-def]
    # nan passes every range check; the config already refused it, the flags did not.
    result = envdrift_cli(*command.split(), option, value)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.stderr
