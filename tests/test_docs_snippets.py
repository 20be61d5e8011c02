"""Every TOML and shell snippet in the docs (and in the product's user guide) still works.

TOML snippets are loaded by the real configuration loader. Every `envdrift …` command in a
shell or YAML snippet is parsed by the real CLI: an option or command that does not exist
(or a wrong combination Click can see) fails. The commands' behaviour is exercised by the
rest of the suite and end to end by ``scripts/demo.py``.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
from envdrift.cli import cli
from envdrift.config import load_config
from envdrift.plugins import PluginRegistry
from envdrift.session import open_vaults

from hatch_build import LockstepPins

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO.parent / "shared" / "spec" / "vault-sync-guide.md"
DOCS = sorted(
    p for p in (REPO / "docs").rglob("*.md") if "examples" not in p.relative_to(REPO).parts
)
SOURCES = [*DOCS, REPO / "README.md", *([SPEC] if SPEC.exists() else [])]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(languages: set[str]) -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        for index, match in enumerate(FENCE.finditer(path.read_text())):
            if match.group(1) in languages:
                found.append((f"{path.name}#{index}", match.group(2)))
    return found


def envdrift_commands(text: str) -> list[list[str]]:
    """The `envdrift …` command lines of a shell or YAML snippet, continuations joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        line = re.sub(r"^\s*(?:-\s+)?(?:run:\s*|entry:\s*)?(?:\$\s+)?", "", line)
        line = line.split(" #")[0].strip()
        if line.startswith("envdrift ") and "<" not in line:
            commands.append(shlex.split(line))
    return commands


TOML = blocks({"toml"})
COMMANDS = [
    (f"{name}: {' '.join(argv)}", argv)
    for name, text in blocks({"sh", "bash", "yaml", ""})
    for argv in envdrift_commands(text)
]


def test_the_docs_have_snippets_to_check() -> None:
    assert len(TOML) >= 5
    assert len(COMMANDS) >= 10


@pytest.mark.parametrize(("name", "text"), TOML, ids=[n for n, _ in TOML])
def test_toml_snippet_loads(name: str, text: str, tmp_path: Path) -> None:
    data = tomllib.loads(text)
    if "envdrift" in data.get("tool", {}):
        config = tmp_path / "pyproject.toml"
    elif "vault" in data:
        config = tmp_path / "envdrift.toml"
    else:
        pytest.skip("not an envdrift configuration")
    config.write_text(text)
    loaded = load_config(config, tmp_path)
    assert loaded.provider is not None or loaded.kind == "pair.txt"
    assert not [w for w in loaded.warnings if "unknown" in w.lower()], loaded.warnings


COMMAND_RECIPES = [(n, t) for n, t in TOML if 'provider = "command"' in t]


def test_the_guide_has_the_command_vault_recipes() -> None:
    programs = {tomllib.loads(t)["vault"]["command"]["fetch"][0] for _, t in COMMAND_RECIPES}
    assert {"op", "bw", "gcloud", "doppler", "infisical", "pass", "bao", "aws"} <= programs


@pytest.mark.parametrize(("name", "text"), COMMAND_RECIPES, ids=[n for n, _ in COMMAND_RECIPES])
def test_command_recipe_builds_its_vault(
    name: str, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real loader, then the real backend: every option of the recipe is validated.
    # The CLIs themselves are stand-ins here (test_command_e2e.py runs bao, aws and pass).
    config = tmp_path / "envdrift.toml"
    config.write_text(text + '\n[[vault.sync.mappings]]\nsecret_name = "k"\nfolder_path = "."\n')
    loaded = load_config(config, tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for key in ("fetch", "store"):
        argv = loaded.vault_tables["command"].get(key)
        if argv:
            (bin_dir / argv[0]).write_text("#!/bin/sh\n")
            (bin_dir / argv[0]).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with open_vaults(loaded, PluginRegistry()) as vaults:
        vault, secret = vaults.for_mapping(loaded.mappings[0])
        vault.check()
    assert vault.name == "command"
    assert secret == "k"


@pytest.mark.parametrize(("name", "argv"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_envdrift_command_parses(name: str, argv: list[str]) -> None:
    # Every snippet names its subcommand first (no group options before it).
    with cli.make_context("envdrift", [argv[1], "--help"], resilient_parsing=True) as ctx:
        command = cli.get_command(ctx, argv[1])
        assert command is not None, f"no command {argv[1]!r}"
        try:
            command.make_context(argv[1], argv[2:], parent=ctx)
        except click.UsageError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{' '.join(argv)}: {exc.format_message()}")


def test_install_extras_in_the_docs_exist() -> None:
    # The umbrella's extras are dynamic: hatch_build.py derives them from the version.
    metadata: dict[str, Any] = {"version": "0"}
    LockstepPins(str(REPO), {}).update(metadata)
    extras = set(metadata["optional-dependencies"])
    for path in SOURCES:
        for extra in re.findall(r"envdrift\[(\w+)\]", path.read_text()):
            assert extra in extras, f"{path.name}: envdrift[{extra}] is not an extra"
