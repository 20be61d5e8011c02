"""Starting envdrift costs almost nothing: --help and --version import no SDK or plugin."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from envdrift.cli import COMMANDS

HEAVY = ("boto3", "botocore", "azure", "hvac", "pydantic", "coincurve", "cryptography", "requests")
PLUGIN_MODULES = ("envdrift_aws", "envdrift_azure", "envdrift_hashicorp", "envdrift.builtins")
#: What only a running command needs. `envdrift --help` builds every command's options to
#: list the commands, so a command module that imported one of these at its top would make
#: every --help pay for it (pathlib with urllib.parse and ipaddress alone: ~4 ms of ~55).
RUN_ONLY = (
    "pathlib",
    "urllib",
    "ipaddress",
    "json",
    "dataclasses",
    "shlex",
    "envdrift.cli._vault_flags",
)
HELP_ARGS = [["--help"], *([name, "--help"] for name in COMMANDS)]

# sys.modules is read before the probe imports json to print it.
PROBE = """
import sys
from envdrift.cli import cli
try:
    cli(ARGS, prog_name="envdrift")
except SystemExit:
    pass
modules = sorted(sys.modules)
import json
print("\\n@@MODULES@@" + json.dumps(modules))
"""


@functools.cache
def _modules_after(*args: str) -> list[str]:
    """The modules a fresh interpreter holds after ``envdrift ARGS``."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.replace("ARGS", repr(list(args)))],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    modules: list[str] = json.loads(out.split("@@MODULES@@")[1])
    return modules


def _among(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules for p in packages if m == p or m.startswith(p + ".")]


@pytest.mark.parametrize("args", [*HELP_ARGS, ["--version"]], ids=" ".join)
def test_startup_imports_no_sdk_no_plugin_no_pydantic(args: list[str]) -> None:
    assert _among(_modules_after(*args), HEAVY + PLUGIN_MODULES) == []


@pytest.mark.parametrize("args", HELP_ARGS, ids=" ".join)
def test_help_imports_only_what_declaring_the_commands_needs(args: list[str]) -> None:
    assert _among(_modules_after(*args), RUN_ONLY) == []


def test_help_lists_the_commands_without_importing_them() -> None:
    # Their summaries are generated into envdrift.cli.SUMMARIES (scripts/docs_cog.py).
    command_modules = {target.split(":")[0] for target in COMMANDS.values()}
    assert command_modules.isdisjoint(_modules_after("--help"))
    assert "envdrift.cli.sync" in _modules_after("sync", "--help")


def test_the_probe_sees_what_a_command_imports() -> None:
    # The --help tests above would pass with a probe that saw nothing.
    assert _among(_modules_after("--debug", "plugins", "--format", "json"), RUN_ONLY)


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envdrift", "--version"], check=True, capture_output=True, text=True
    )
    assert result.stdout.startswith("envdrift ")


def test_version_is_answered_before_click_and_typing_are_imported() -> None:
    # Scripts and CI jobs ask `envdrift --version` often: it answers from the console
    # script's module, importing only envdrift's own version and os.
    probe = (
        "import sys\n"
        "sys.argv = ['envdrift', '--version']\n"
        "from envdrift.__main__ import main\n"
        "main()\n"
        "modules = sorted(sys.modules)\n"
        "import json\n"
        "print('@@' + json.dumps(modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    printed, modules = out.split("@@")
    loaded = [m for m in json.loads(modules) if m.split(".")[0] in ("click", "typing", "re")]
    assert loaded == []
    # The same line Click's --version option prints (here after --debug, through Click).
    through_click = subprocess.run(
        [sys.executable, "-m", "envdrift", "--debug", "--version"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert printed == through_click
    assert printed.startswith("envdrift ")


def test_the_console_script_is_the_module_that_answers_version_early() -> None:
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "envdrift-core" / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    assert scripts == {"envdrift": "envdrift.__main__:main"}


def test_a_builtin_vault_sync_looks_at_no_installed_distribution(tmp_path: Path) -> None:
    # A sync from the `files` vault needs no plugin but its own: no entry-point scan (not
    # even importlib.metadata's import), no other plugin, no SDK, no pydantic.
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "app-key").write_text("a" * 64)
    (tmp_path / "app").mkdir()
    (tmp_path / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n[vault.files]\npath = "vault"\n'
        '[[vault.sync.mappings]]\nsecret_name = "app-key"\nfolder_path = "app"\n'
    )
    probe = PROBE.replace("ARGS", repr(["sync", "--force"]))
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout
    assert "DOTENV_PRIVATE_KEY" in (tmp_path / "app" / ".env.keys").read_text()
    modules = set(json.loads(out.split("@@MODULES@@")[1]))
    plugins = {m for m in modules for p in PLUGIN_MODULES if m == p or m.startswith(p + ".")}
    assert plugins == {"envdrift.builtins", "envdrift.builtins.files"}
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
    assert "importlib.metadata" not in modules
