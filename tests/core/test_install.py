"""What envdrift says about its own installation: versions, install hints, docs, mixtures.

The real, pip-made cases (a wheel install, envdrift 11.1.1 from PyPI mixed with core)
are in tests/test_distributions.py; these cover each branch against this checkout's own
editable install and folders made here.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import envdrift._install as install
import pytest
from envdrift.__about__ import __version__
from envdrift.cli import cli
from envdrift.errors import UnknownVaultError
from envdrift.plugins import PluginRegistry

REPO = Path(__file__).resolve().parents[2]
CORE_FOLDER = REPO / "envdrift-core"


def test_the_dev_install_is_known_as_an_editable_checkout() -> None:
    # scripts/bootstrap.sh installs core with `pip install -e ./envdrift-core`.
    assert install._local_source("envdrift-core") == (CORE_FOLDER, True)


def test_a_backend_missing_from_a_checkout_install_comes_from_the_same_checkout() -> None:
    command = install.install_command("envdrift-azure")
    assert command.startswith(f"pip install -e {REPO / 'envdrift-azure'} ")
    assert f"installed from the local checkout {REPO}" in command


def test_an_index_install_gets_the_backend_distribution_at_cores_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(install, "_local_source", lambda distribution: None)
    assert install.install_command("envdrift-aws") == f"pip install envdrift-aws=={__version__}"
    with pytest.raises(UnknownVaultError) as info:
        # No entry points: not installed (an installed one switched off says so instead).
        PluginRegistry(load_entry_points=False).vault_class("aws")
    # Never the umbrella's extra: `envdrift[aws]` can fetch (and downgrade to) 11.x.
    assert "envdrift[" not in str(info.value)
    assert str(info.value).endswith(f"Install it with: pip install envdrift-aws=={__version__}")


def test_a_wheel_install_points_at_the_wheel_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wheel = tmp_path / "dist" / f"envdrift_core-{__version__}-py3-none-any.whl"
    monkeypatch.setattr(install, "_local_source", lambda distribution: (wheel, False))
    command = install.install_command("envdrift-aws")
    assert command.startswith(
        f"pip install --find-links {tmp_path / 'dist'} envdrift-aws=={__version__} "
    )
    assert f"local wheel {wheel}" in command


def test_a_local_folder_without_the_backend_next_to_it_says_where_core_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(install, "_local_source", lambda d: (tmp_path / "envdrift-core", False))
    command = install.install_command("envdrift-aws")
    assert command.startswith(f"pip install envdrift-aws=={__version__} ")
    assert str(tmp_path / "envdrift-core") in command
    (tmp_path / "envdrift-aws").mkdir()
    (tmp_path / "envdrift-aws" / "pyproject.toml").write_text("")
    assert install.install_command("envdrift-aws", explain=False) == (
        f"pip install {tmp_path / 'envdrift-aws'}"
    )


def test_docs_urls_come_from_the_installed_metadata() -> None:
    with (CORE_FOLDER / "pyproject.toml").open("rb") as file:
        documentation = tomllib.load(file)["project"]["urls"]["Documentation"]
    assert install.docs_url("configuration") == f"{documentation.rstrip('/')}/configuration/"


def test_installed_distributions_lists_ours_with_pips_versions() -> None:
    found = install.installed_distributions()
    assert found["envdrift-core"] == version("envdrift-core")
    assert all(name.startswith("envdrift") for name in found)


def test_version_verbose_lists_every_envdrift_distribution(envdrift_cli) -> None:  # type: ignore[no-untyped-def]
    plain = envdrift_cli("--version")
    assert plain.stdout == f"envdrift {__version__}\n"
    result = envdrift_cli("--version", "--verbose")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"envdrift {__version__}"
    listed = dict(line.split() for line in lines[1:])
    assert listed == install.installed_distributions()
    assert "envdrift-core" in listed


def test_a_clean_package_folder_is_not_mixed(tmp_path: Path) -> None:
    ours = Path(install.PACKAGE_DIR)
    taken = [name for name in install.LEGACY_FILES if (ours / name).exists()]
    assert taken == [], f"envdrift 11.x's names in our package read as a mixed install: {taken}"
    assert not install.legacy_files_present()
    assert install.mixed_install() is None
    assert install.mixed_install(tmp_path) is None


@pytest.mark.parametrize("leftover", install.LEGACY_FILES)
def test_envdrift_11_files_in_the_package_folder_are_named_with_the_fix(
    tmp_path: Path, leftover: str
) -> None:
    (tmp_path / leftover).touch()
    assert install.legacy_files_present(tmp_path)
    message = install.mixed_install(tmp_path)
    assert message is not None
    assert "\n" not in message
    assert f"envdrift-core {version('envdrift-core')}" in message
    assert str(tmp_path) in message
    assert "pip uninstall -y envdrift envdrift-core" in message


def test_envdrift_11s_console_script_gets_the_explanation() -> None:
    # 11.x's script is `from envdrift.cli import app; sys.exit(app())`.
    from envdrift.cli import app

    with pytest.raises(SystemExit) as info:
        app()
    assert info.value.code == 2


def test_debug_is_accepted_after_the_subcommand(envdrift_cli) -> None:  # type: ignore[no-untyped-def]
    before = envdrift_cli("--debug", "plugins", "--format", "json")
    after = envdrift_cli("plugins", "--format", "json", "--debug")
    assert before.exit_code == after.exit_code == 0
    assert after.stdout == before.stdout


def test_debug_after_the_subcommand_shows_the_traceback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    missing = str(tmp_path / "missing.toml")
    quiet = CliRunner().invoke(cli, ["sync", "-c", missing])
    assert quiet.exit_code == 2
    assert quiet.exception is None or isinstance(quiet.exception, SystemExit)
    loud = CliRunner().invoke(cli, ["sync", "-c", missing, "--debug"])
    # --debug re-raises the error for its traceback instead of the one-line message.
    assert loud.exception is not None
    assert not isinstance(loud.exception, SystemExit)


def test_a_misspelt_command_gets_a_did_you_mean(envdrift_cli) -> None:  # type: ignore[no-untyped-def]
    result = envdrift_cli("snyc")
    assert result.exit_code == 2
    assert "No such command 'snyc'. Did you mean 'sync'?" in result.stderr
    assert "Did you mean" not in envdrift_cli("xyzzy").stderr


def test_a_missing_config_points_at_docs_a_pip_user_can_open(tmp_path: Path) -> None:
    from envdrift.config import load_config
    from envdrift.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load_config(None, tmp_path)
    assert str(info.value).endswith(f"see {install.docs_url('configuration')}")
    assert install.docs_url("configuration").startswith("https://")
