"""``envdrift get`` and ``envdrift set``, alone and side by side with the real dotenvx.

`set` encrypts to the file's public key (no private key needed) and touches only its
own line; `get` reads as `run` does. What one CLI sets, the other gets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.dotenvx_cli import DotenvxCli, require_dotenvx

Run = Callable[..., Result]

#: Values that need care: quotes of every kind, `#`, `$`, spaces, unicode, a newline.
AWKWARD = [
    "plain",
    "with space",
    "it's",
    'say "hi"',
    "a#b # not a comment",
    "back`tick",
    "ünïcødé ✓",
    "two\nlines",
    "",
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envdrift_cli: Run) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env.production").write_text('A=1 # keep me\nexport B="two"\n')
    assert envdrift_cli("encrypt", ".env.production").exit_code == 0
    return tmp_path


def test_set_needs_no_private_key_and_changes_only_its_line(
    project: Path, envdrift_cli: Run
) -> None:
    env = project / ".env.production"
    keys = (project / ".env.keys").read_text()
    (project / ".env.keys").unlink()  # only the public key in the file is needed
    before = env.read_text().splitlines()
    added = envdrift_cli("set", "C", "new value", "-f", ".env.production")
    assert added.exit_code == 0, added.output
    assert added.stdout == "set C in .env.production (encrypted, added)\n"
    replaced = envdrift_cli("set", "B", "2", "-f", ".env.production")
    assert replaced.stdout == "set B in .env.production (encrypted, replaced)\n"
    after = env.read_text().splitlines()
    changed = [old for old, new in zip(before, after, strict=False) if old != new]
    assert len(changed) == 1
    assert changed[0].startswith("export B=")
    assert after[-1].startswith('C="encrypted:')
    assert "new value" not in env.read_text()
    assert next(line for line in after if line.startswith("A=")).endswith(" # keep me")
    (project / ".env.keys").write_text(keys)
    got = envdrift_cli("get", "-f", ".env.production")
    assert json.loads(got.stdout) | {"DOTENV_PUBLIC_KEY_PRODUCTION": ""} == {
        "DOTENV_PUBLIC_KEY_PRODUCTION": "",
        "A": "1",
        "B": "2",
        "C": "new value",
    }


@pytest.mark.parametrize("value", AWKWARD)
def test_set_then_get_gives_the_value_back(project: Path, envdrift_cli: Run, value: str) -> None:
    for key in ("NEW", "A"):
        assert envdrift_cli("set", key, value, "-f", ".env.production").exit_code == 0
        got = envdrift_cli("get", key, "-f", ".env.production")
        assert (got.exit_code, got.stdout) == (0, value + "\n")
    plain = envdrift_cli("set", "P", value, "-f", ".env.production", "--plain")
    assert plain.exit_code == 0, plain.output
    assert envdrift_cli("get", "P", "-f", ".env.production").stdout == value + "\n"


def test_get_of_a_missing_key_fails_naming_it(project: Path, envdrift_cli: Run) -> None:
    result = envdrift_cli("get", "NOPE", "-f", ".env.production")
    assert result.exit_code == 1
    assert result.stderr == "Error: NOPE is not set in .env.production\n"


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("DOTENV_PRIVATE_KEY_PRODUCTION", "belongs in .env.keys"),
        ("DOTENV_PUBLIC_KEY_PRODUCTION", "envdrift rotate"),
        ("BAD KEY", "not a variable name"),
    ],
)
def test_set_refuses_keys_and_bad_names(
    project: Path, envdrift_cli: Run, key: str, says: str
) -> None:
    before = (project / ".env.production").read_bytes()
    result = envdrift_cli("set", key, "v", "-f", ".env.production")
    assert result.exit_code == 2
    assert says in result.stderr
    assert (project / ".env.production").read_bytes() == before


def test_set_on_a_plaintext_file_without_a_public_key_says_to_encrypt_first(
    project: Path, envdrift_cli: Run
) -> None:
    (project / ".env.local").write_text("A=readable\n")
    result = envdrift_cli("set", "B", "v", "-f", ".env.local")
    assert result.exit_code == 2
    assert "run `envdrift encrypt .env.local` first" in result.stderr
    assert (project / ".env.local").read_text() == "A=readable\n"


def test_set_creates_a_missing_file_with_a_key(project: Path, envdrift_cli: Run) -> None:
    result = envdrift_cli("set", "K", "v", "-f", ".env.staging")
    assert result.exit_code == 0, result.output
    assert "DOTENV_PRIVATE_KEY_STAGING=" in (project / ".env.keys").read_text()
    assert envdrift_cli("get", "K", "-f", ".env.staging").stdout == "v\n"


# -- side by side with the real dotenvx ------------------------------------------------


@pytest.fixture
def dotenvx(tmp_path_factory: pytest.TempPathFactory) -> DotenvxCli:
    return require_dotenvx(tmp_path_factory.mktemp("dotenvx-home"))


@pytest.mark.dotenvx
@pytest.mark.parametrize("value", AWKWARD)
def test_envdrift_set_then_dotenvx_get(
    dotenvx: DotenvxCli, project: Path, envdrift_cli: Run, value: str
) -> None:
    for key in ("NEW", "A"):
        assert envdrift_cli("set", key, value, "-f", ".env.production").exit_code == 0
        theirs = dotenvx.run(["get", key, "-f", ".env.production"], cwd=project)
        assert theirs.stdout == value + "\n"
    everything = dotenvx.run(["get", "-f", ".env.production"], cwd=project).stdout
    ours = envdrift_cli("get", "-f", ".env.production").stdout
    assert json.loads(ours) == json.loads(everything)


@pytest.mark.dotenvx
@pytest.mark.parametrize("value", [v for v in AWKWARD if v])
def test_dotenvx_set_then_envdrift_get(
    dotenvx: DotenvxCli, project: Path, envdrift_cli: Run, value: str
) -> None:
    for key in ("NEW", "A"):
        dotenvx.run(["set", key, "-f", ".env.production", "--", value], cwd=project)
        ours = envdrift_cli("get", key, "-f", ".env.production")
        theirs = dotenvx.run(["get", key, "-f", ".env.production"], cwd=project)
        assert ours.stdout == theirs.stdout == value + "\n"
