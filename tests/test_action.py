"""The GitHub Action (``action.yml``): GitHub's schema accepts it, and its steps, run the way
a runner runs them (tests/action_runner.py), install envdrift from this checkout and sync.

The job syncs from a real OpenBao dev server with the ``hashicorp`` provider installed by
the action itself; envdrift and its dependencies go into a fresh venv under RUNNER_TEMP,
the dependencies from the package index (through pip's cache), as on a runner.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from envdrift.cli import cli

from tests.action_runner import ActionRun, Runner
from tests.hashicorp.test_sync_hashicorp import make_key
from tests.servers.openbao import OpenBao, openbao_server
from tests.venvs import REPO_ROOT

ACTION = REPO_ROOT / "action.yml"
# Read before the autouse fixture empties HOME: pip keeps its cache there.
_PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip"
)


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    """Validate ``path`` with GitHub's action schema, vendored in check-jsonschema."""
    binary = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(binary), "--builtin-schema", "vendor.github-actions", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_action_yml_passes_githubs_action_schema() -> None:
    result = check_jsonschema(ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_action(tmp_path: Path) -> None:
    action = yaml.safe_load(ACTION.read_text())
    action["runs"]["steps"][0]["shell"] = ["bash"]  # a list where GitHub wants a string
    broken = tmp_path / "action.yml"
    broken.write_text(yaml.safe_dump(action))
    result = check_jsonschema(broken)
    assert result.returncode == 1
    assert "$.runs" in result.stdout


def test_every_input_and_output_is_described() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert set(action["inputs"]) == {
        "command",
        "extras",
        "working-directory",
        "config",
        "python",
        "cache",
    }
    assert action["inputs"]["command"]["default"] == "sync --ci"
    assert set(action["outputs"]) == {"exit-code", "json"}
    for spec in [*action["inputs"].values(), *action["outputs"].values()]:
        assert spec["description"].strip()


# -- a job on a local runner ----------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    with openbao_server(tmp_path_factory.mktemp("openbao")) as server:
        yield server


@pytest.fixture
def runner(tmp_path: Path, server: OpenBao) -> Runner:
    """A job whose workflow sets VAULT_ADDR and VAULT_TOKEN (as `env:` would)."""
    workspace, temp, home = tmp_path / "workspace", tmp_path / "runner-temp", tmp_path / "home"
    for folder in (workspace, temp, home):
        folder.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PIP_CACHE_DIR": _PIP_CACHE,
        "VAULT_ADDR": server.address,
        "VAULT_TOKEN": server.root_token,
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_") and k not in env})
    return Runner(workspace, temp, env)


def checkout(runner: Runner, server: OpenBao, secret: str, folder: str = "services/api") -> Path:
    """The repository as actions/checkout leaves it: a subproject with its envdrift.toml."""
    project = runner.workspace / "backend"
    (project / folder).mkdir(parents=True)
    (project / "ci-envdrift.toml").write_text(
        '[vault]\nprovider = "hashicorp"\n\n'
        f'[[vault.sync.mappings]]\nsecret_name = "{secret}"\nfolder_path = "{folder}"\n'
        'environment = "production"\n'
    )
    return project


def use_action(runner: Runner, **inputs: str) -> ActionRun:
    return runner.run_action(REPO_ROOT, inputs)


@pytest.mark.slow
def test_the_action_installs_envdrift_and_syncs_then_fails_on_a_rotated_key_in_json(
    runner: Runner, server: OpenBao
) -> None:
    secret = "action-job/api-key"
    key, rotated = make_key(secret), make_key(f"{secret}-rotated")
    server.kv_put(f"secret/{secret}", value=key)
    project = checkout(runner, server, secret)
    keys_file = project / "services" / "api" / ".env.keys"

    first = use_action(
        runner, extras="hashicorp", **{"working-directory": "backend"}, config="ci-envdrift.toml"
    )
    assert first.succeeded, first.log
    assert first.outputs == {"exit-code": "0", "json": ""}
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={key}" in keys_file.read_text()
    assert key not in first.log
    cache = next(step for step in first.steps if step.uses)
    venv = Path(cache.with_["path"])
    assert venv.parent == runner.temp
    assert cache.with_["key"].startswith("envdrift-Linux-py3")
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {d["name"] for d in json.loads(installed.stdout) if d["name"].startswith("envdrift")}
    assert names == {"envdrift-core", "envdrift-hashicorp"}

    # Later steps of the job have envdrift on PATH (GITHUB_PATH).
    later = runner.run_step("command -v envdrift && envdrift --version")
    assert later.status == "success", later.log
    assert later.log.startswith(str(venv / "bin" / "envdrift"))

    # The vault's key is rotated: the same job's second use reuses the install and
    # reports the difference in a JSON document whose path is an output; the step fails.
    server.kv_put(f"secret/{secret}", value=rotated)
    second = use_action(
        runner,
        extras="hashicorp",
        command="sync --ci --format json",
        **{"working-directory": "backend"},
        config="ci-envdrift.toml",
    )
    assert not second.succeeded
    assert second.outputs["exit-code"] == "1"
    assert f"using the install in {venv}" in second.log
    document = json.loads(Path(second.outputs["json"]).read_text())
    assert Path(second.outputs["json"]).parent == runner.temp
    assert (document["command"], document["exit_code"]) == ("sync", 1)
    assert document["mappings"][0]["outcome"] == "error", document  # --ci: no overwrite
    assert f"DOTENV_PRIVATE_KEY_PRODUCTION={key}" in keys_file.read_text()
    assert "::error title=envdrift::envdrift sync --ci --format json" in second.log

    # The command is split as shell words, never run through a shell.
    third = use_action(runner, extras="hashicorp", command="sync --ci -c 'unclosed $(touch x)")
    assert not third.succeeded
    assert "the command input is not shell words: No closing quotation" in third.log
    assert not (runner.workspace / "x").exists()


def test_an_unknown_provider_fails_before_anything_is_installed(
    runner: Runner, server: OpenBao
) -> None:
    run = use_action(runner, extras="aws, hashicorb")
    assert not run.succeeded
    assert "::error title=envdrift::unknown provider 'hashicorb' in extras" in run.log
    assert [step.status for step in run.steps][1:] == ["skipped"] * 3
    assert run.outputs == {"exit-code": "", "json": ""}
    assert list(runner.temp.glob("envdrift-*")) == []


def test_the_guides_uses_of_the_action_name_real_inputs_and_commands() -> None:
    action = yaml.safe_load(ACTION.read_text())
    guide = (REPO_ROOT / "docs" / "guide.md").read_text()
    uses = []
    for block in re.findall(r"^```yaml\n(.*?)^```", guide, re.MULTILINE | re.DOTALL):
        document = yaml.safe_load(block)
        steps = document if isinstance(document, list) else document.get("steps", [])
        uses += [step for step in steps if str(step.get("uses", "")).startswith("jainal09/")]
    assert len(uses) >= 4
    for step in uses:
        assert step["uses"] == "jainal09/envdrift@v12.0.0"
        assert set(step.get("with", {})) <= set(action["inputs"]), step
        words = shlex.split(step.get("with", {}).get("command", "sync --ci"))
        with cli.make_context("envdrift", [*words, "--help"], resilient_parsing=True) as ctx:
            command = cli.get_command(ctx, words[0])
            assert command is not None
            command.make_context(words[0], words[1:], parent=ctx)
