"""``envdrift run`` and the real ``dotenvx run`` give a command the same environment.

Side by side on the same files (encrypted by dotenvx itself): awkward values, ``$VAR``
expansion in its forms, two files, variables already set, with and without
``--overload``, and a clone with no ``.env.keys`` where envdrift takes the key from the
vault and dotenvx from ``DOTENV_PRIVATE_KEY_PRODUCTION``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.core.run_helpers import PRINT_ENV, envdrift_run, printed_env, snapshot
from tests.core.test_dotenvx_compat import LF_FILE
from tests.dotenvx_cli import DotenvxCli, require_dotenvx

pytestmark = pytest.mark.dotenvx

EXPANSIONS = (
    "E_REF=$UNICODE-x\n"
    "E_BRACE=${DOUBLE}!\n"
    "E_DEFAULT=${NOPE:-fallback}\n"
    "E_DASH=${EMPTY-dash}\n"
    "E_COLON_DASH=${EMPTY:-colon dash}\n"
    "E_PLUS=${DOUBLE:+alt}\n"
    "E_PLUS_UNSET=${NOPE+alt}\n"
    'E_ESCAPED="\\$DOUBLE stays"\n'
    "E_SINGLE='$DOUBLE literal'\n"
    "E_SHELL=$SHELL_ONLY\n"
    "E_FORWARD=$LATER\n"
    "LATER=later\n"
    "E_SELF=$E_SELF\n"
    "E_NESTED=${E_REF}/${E_BRACE}\n"
    "E_DOLLARS=cost $$5 and $&\n"
)
LOCAL = "DOUBLE=local double\nL_REF=$DOUBLE/$E_REF\nFROM_SHELL=local\nLATER=local later\n"
SHELL = {"SHELL_ONLY": "shell", "DOUBLE": "from shell", "FROM_SHELL": "shell"}


@pytest.fixture(scope="module")
def dotenvx(tmp_path_factory: pytest.TempPathFactory) -> DotenvxCli:
    return require_dotenvx(tmp_path_factory.mktemp("dotenvx-home"))


@pytest.fixture(scope="module")
def project(dotenvx: DotenvxCli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``.env.production`` encrypted by dotenvx (key in ``.env.keys``), ``.env.local`` plain."""
    root = tmp_path_factory.mktemp("run-project")
    (root / ".env.production").write_text(LF_FILE + EXPANSIONS)
    (root / ".env.local").write_text(LOCAL)
    dotenvx.run(["encrypt", "-f", ".env.production"], cwd=root)
    assert "encrypted:" in (root / ".env.production").read_text()
    return root


def names_of_interest() -> set[str]:
    names = set(SHELL)
    for text in (LF_FILE, EXPANSIONS, LOCAL):
        for line in text.splitlines():
            head = line.split("=", 1)[0].split(":", 1)[0].strip()
            if head and not head.startswith("#"):
                names.add(head.removeprefix("export ").strip())
    return names | {"DOTENV_PUBLIC_KEY_PRODUCTION"}


def dotenvx_env(dotenvx: DotenvxCli, cwd: Path, args: list[str], env: dict[str, str]) -> dict:
    result = dotenvx.run(["run", *args, "--", *PRINT_ENV], cwd=cwd, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def envdrift_env(cwd: Path, args: list[str], env: dict[str, str]) -> dict[str, str]:
    return printed_env(envdrift_run(cwd, *args, "--", *PRINT_ENV, env=env))


def same_environment(dotenvx: DotenvxCli, cwd: Path, args: list[str], env: dict) -> None:
    theirs = dotenvx_env(dotenvx, cwd, args, env)
    base = {
        "PATH": f"{Path(shutil.which('node') or '/usr/bin/node').parent}:/usr/bin:/bin",
        "HOME": str(dotenvx.home),
        "LANG": "C.UTF-8",
    }
    ours = envdrift_env(cwd, args, {**base, **env})
    names = names_of_interest()
    picked_theirs = {k: v for k, v in theirs.items() if k in names}
    picked_ours = {k: v for k, v in ours.items() if k in names}
    assert picked_ours == picked_theirs
    assert len(picked_ours) > 30


@pytest.mark.parametrize("overload", [False, True], ids=["shell-wins", "overload"])
def test_same_values_reach_the_command(dotenvx: DotenvxCli, project: Path, overload: bool) -> None:
    args = ["-f", ".env.production", "-f", ".env.local", *(["--overload"] if overload else [])]
    same_environment(dotenvx, project, args, dict(SHELL))


def test_comma_list_and_reverse_order(dotenvx: DotenvxCli, project: Path) -> None:
    same_environment(dotenvx, project, ["-f", ".env.local,.env.production"], dict(SHELL))


def test_clone_without_keys_file_vault_key_equals_dotenvx_with_the_key(
    dotenvx: DotenvxCli, project: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    (clone / "secrets").mkdir(parents=True)
    shutil.copy(project / ".env.production", clone / ".env.production")
    key_line = (project / ".env.keys").read_text().strip().splitlines()[-1]
    key = key_line.split("=", 1)[1]
    (clone / "secrets" / "prod").write_text(key)
    (clone / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n[vault.files]\npath = "secrets"\n'
        '[[vault.sync.mappings]]\nsecret_name = "prod"\nfolder_path = "."\n'
        'environment = "production"\n'
    )
    before = snapshot(clone)
    theirs = dotenvx_env(
        dotenvx, clone, ["-f", ".env.production"], {"DOTENV_PRIVATE_KEY_PRODUCTION": key}
    )
    ours = envdrift_env(clone, ["-f", ".env.production"], {"HOME": str(tmp_path)})
    names = names_of_interest()
    assert {k: v for k, v in ours.items() if k in names} == {
        k: v for k, v in theirs.items() if k in names
    }
    assert snapshot(clone) == before


def test_without_f_the_private_key_variable_names_the_file(
    dotenvx: DotenvxCli, project: Path
) -> None:
    # dotenvx's "inline" habit: DOTENV_PRIVATE_KEY_PRODUCTION set and no -f means
    # .env.production (not .env).
    key = (project / ".env.keys").read_text().strip().splitlines()[-1].split("=", 1)[1]
    same_environment(dotenvx, project, [], {"DOTENV_PRIVATE_KEY_PRODUCTION": key})
