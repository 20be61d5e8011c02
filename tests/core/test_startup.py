"""Starting envdrift costs almost nothing: --help and --version import no SDK or plugin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "azure", "hvac", "pydantic", "coincurve", "cryptography", "requests")
PLUGIN_MODULES = ("envdrift_aws", "envdrift_azure", "envdrift_hashicorp", "envdrift.builtins")

PROBE = """
import json, sys
from envdrift.cli import cli
try:
    cli(ARGS, prog_name="envdrift")
except SystemExit:
    pass
print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["plugins", "--help"], ["sync", "--help"]]
)
def test_startup_imports_no_sdk_no_plugin_no_pydantic(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.replace("ARGS", repr(args))],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    modules = json.loads(out.split("@@MODULES@@")[1])
    loaded = sorted(
        m for m in modules for bad in HEAVY + PLUGIN_MODULES if m == bad or m.startswith(bad + ".")
    )
    assert loaded == []


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envdrift", "--version"], check=True, capture_output=True, text=True
    )
    assert result.stdout.startswith("envdrift ")
