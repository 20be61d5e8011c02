"""Shell completion, through Click's protocol as bash runs it: ``_ENVDRIFT_COMPLETE``.

``-p/--provider`` completes the vaults installed plugins provide; ``--profile`` the
profiles of the configuration in use (``-c FILE`` or the one discovered from the
current directory).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from envdrift.plugins import PluginRegistry

CONFIG = """\
[vault]
provider = "files"

[vault.files]
path = "secrets"

[[vault.sync.mappings]]
secret_name = "api"
folder_path = "api"
profile = "local"

[[vault.sync.mappings]]
secret_name = "web"
folder_path = "web"
profile = "staging"

[[vault.sync.mappings]]
secret_name = "worker"
folder_path = "worker"
"""


def complete(line: str, cwd: Path, **env: str) -> list[str]:
    """What bash would be offered for the last word of ``line`` (ending in a space: a new one)."""
    words = line.split(" ")
    result = subprocess.run(
        [sys.executable, "-m", "envdrift"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={
            **os.environ,
            **env,
            "_ENVDRIFT_COMPLETE": "bash_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [item.split(",", 1)[1] for item in result.stdout.splitlines() if item]


def test_provider_completes_the_installed_vaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert complete("envdrift sync -p ", tmp_path) == PluginRegistry().vault_names()
    assert "aws" in PluginRegistry().vault_names()
    monkeypatch.setenv("ENVDRIFT_LOAD_PLUGINS", "")
    builtins = PluginRegistry().vault_names()
    assert "aws" not in builtins
    assert complete("envdrift vault-push --provider ", tmp_path) == builtins
    assert complete("envdrift sync -p fi", tmp_path) == ["files"]


def test_profile_completes_the_profiles_of_the_discovered_config(tmp_path: Path) -> None:
    (tmp_path / "envdrift.toml").write_text(CONFIG)
    (tmp_path / "api").mkdir()
    assert complete("envdrift sync --profile ", tmp_path / "api") == ["local", "staging"]
    assert complete("envdrift vault-push --profile st", tmp_path) == ["staging"]


def test_profile_completes_from_the_config_named_by_c(tmp_path: Path) -> None:
    (tmp_path / "team.toml").write_text(CONFIG.replace('"staging"', '"ci"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    line = f"envdrift sync -c {tmp_path / 'team.toml'} --profile "
    assert complete(line, elsewhere) == ["ci", "local"]


def test_profile_offers_nothing_without_a_loadable_config(tmp_path: Path) -> None:
    assert complete("envdrift sync --profile ", tmp_path) == []
    (tmp_path / "envdrift.toml").write_text("[vault\n")
    assert complete("envdrift sync --profile ", tmp_path) == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_completion_scripts_are_produced(shell: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envdrift"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "_ENVDRIFT_COMPLETE": f"{shell}_source"},
    )
    assert result.returncode == 0, result.stderr
    assert "_ENVDRIFT_COMPLETE" in result.stdout
