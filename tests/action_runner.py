"""Run a composite GitHub Action's steps here, the way a GitHub Actions runner does.

What the runner does and this does too: substitute ``${{ … }}`` (``inputs``, ``github``,
``runner``, ``steps.<id>.outputs``, ``env``; ``==``/``!=`` against a string in ``if:``);
run each ``run:`` step with ``bash --noprofile --norc -eo pipefail`` in its
``working-directory`` (relative to the workspace) with the runner's variables
(``GITHUB_ACTION_PATH``, ``GITHUB_WORKSPACE``, ``RUNNER_TEMP``, ``RUNNER_OS``, …); give
every step fresh ``GITHUB_OUTPUT``, ``GITHUB_ENV`` and ``GITHUB_PATH`` files and apply
what it wrote (outputs for later ``steps.<id>.outputs``, variables and PATH entries for
every later step of the job, including the workflow's own); skip the steps after a
failure; compute the action's outputs.

What it cannot do: run another action. ``actions/cache`` is the only one allowed, and
here it always misses (as on a runner whose cache is empty or turned off); any other
``uses:`` fails the run. An expression it does not understand fails too, rather than
being guessed.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ActionRun", "Runner", "StepResult"]

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_COMPARISON = re.compile(r"^(\S+)\s*(==|!=)\s*'([^']*)'$")
_CACHE_ACTION = re.compile(r"^actions/cache@v\d+$")


@dataclass
class StepResult:
    """One step as the runner's log shows it.

    Attributes:
        name: The step's name (expressions substituted).
        status: ``"success"``, ``"failure"`` or ``"skipped"``.
        exit_code: The script's exit status (``None`` when it did not run a script).
        log: What it printed (stdout and stderr, interleaved).
        uses: The action it named, for ``uses:`` steps.
        with_: That action's inputs, substituted.
    """

    name: str
    status: str
    exit_code: int | None = None
    log: str = ""
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    """The outcome of one use of the action in a job."""

    succeeded: bool
    outputs: dict[str, str]
    steps: list[StepResult]

    @property
    def log(self) -> str:
        """Every step's output, in order."""
        return "".join(step.log for step in self.steps)


class Runner:
    """One job on a runner: a workspace, ``RUNNER_TEMP``, and the job's environment.

    ``GITHUB_PATH`` and ``GITHUB_ENV`` written by any step apply to all later steps of
    the job: ``run_action`` and ``run_step`` may be mixed as a workflow mixes them.
    """

    def __init__(self, workspace: Path, temp: Path, env: Mapping[str, str]) -> None:
        self.workspace = workspace
        self.temp = temp
        self.base_env = dict(env)
        self.job_env: dict[str, str] = {}
        self.job_path: list[str] = []  # GITHUB_PATH entries, newest first
        self._files = temp / "_runner_file_commands"
        self._files.mkdir(parents=True, exist_ok=True)
        self._counter = 0

    def run_action(self, action_dir: Path, inputs: Mapping[str, str]) -> ActionRun:
        """``uses: ./action_dir`` with ``with: inputs``."""
        action = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
        assert action["runs"]["using"] == "composite", "only composite actions run here"
        declared = action.get("inputs") or {}
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
        values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
        values.update(inputs)
        context: dict[str, Any] = {
            "inputs": values,
            "github": {"action_path": str(action_dir), "workspace": str(self.workspace)},
            "runner": {"os": "Linux", "arch": _arch(), "temp": str(self.temp)},
            "steps": {},
        }
        results: list[StepResult] = []
        failed = False
        for step in action["runs"]["steps"]:
            context["env"] = {**self.base_env, **self.job_env}
            condition = step.get("if", "success()")
            name = _substitute(str(step.get("name", step.get("id", ""))), context)
            if failed or not _condition(str(condition), context):
                results.append(StepResult(name, "skipped"))
                continue
            if "uses" in step:
                results.append(self._uses(step, name, context))
                continue
            env = {k: _substitute(str(v), context) for k, v in (step.get("env") or {}).items()}
            cwd = self.workspace / _substitute(str(step.get("working-directory", ".")), context)
            result, outputs = self._run(step["run"], name, env, cwd, action_dir)
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": outputs}
            results.append(result)
            failed = result.status == "failure"
        outputs = {
            name: _substitute(str(spec.get("value", "")), context)
            for name, spec in (action.get("outputs") or {}).items()
        }
        return ActionRun(not failed, outputs, results)

    def run_step(self, script: str, *, cwd: Path | None = None) -> StepResult:
        """A workflow's own ``run:`` step (after the action: it sees the action's PATH)."""
        result, _ = self._run(script, "run", {}, cwd or self.workspace, None)
        return result

    # -- one step --------------------------------------------------------------------

    def _uses(self, step: Mapping[str, Any], name: str, context: Mapping[str, Any]) -> StepResult:
        uses = str(step["uses"])
        assert _CACHE_ACTION.match(uses), f"{uses}: cannot run another action locally"
        with_ = {k: _substitute(str(v), context) for k, v in (step.get("with") or {}).items()}
        if "id" in step:  # a miss: nothing restored
            context["steps"][step["id"]] = {"outputs": {"cache-hit": "false"}}
        return StepResult(name, "success", uses=uses, with_=with_)

    def _run(
        self, script: str, name: str, env: Mapping[str, str], cwd: Path, action_dir: Path | None
    ) -> tuple[StepResult, dict[str, str]]:
        self._counter += 1
        kinds = ("output", "env", "path")
        files = {kind: self._files / f"{kind}_{self._counter}" for kind in kinds}
        for path in files.values():
            path.write_text("")
        script_file = self._files / f"step_{self._counter}.sh"
        script_file.write_text(script)
        path = os.pathsep.join([*self.job_path, self.base_env.get("PATH", os.defpath)])
        step_env = {
            **self.base_env,
            **self.job_env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_ENV": str(files["env"]),
            "GITHUB_PATH": str(files["path"]),
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": _arch(),
            **env,
            "PATH": path,
        }
        if action_dir is not None:
            step_env["GITHUB_ACTION_PATH"] = str(action_dir)
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=cwd,
            env=step_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )
        self.job_env.update(_file_command(files["env"]))
        added = [line for line in files["path"].read_text().splitlines() if line.strip()]
        self.job_path[:0] = reversed(added)
        status = "success" if completed.returncode == 0 else "failure"
        result = StepResult(name, status, completed.returncode, completed.stdout)
        return result, _file_command(files["output"])


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64"}.get(
        machine, machine.upper()
    )


def _file_command(path: Path) -> dict[str, str]:
    """Parse a ``GITHUB_OUTPUT``/``GITHUB_ENV`` file: ``k=v`` lines and ``k<<DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            body = []
            for part in lines:
                if part == delimiter:
                    break
                body.append(part)
            values[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def _lookup(expression: str, context: Mapping[str, Any]) -> str:
    node: Any = context
    for part in expression.split("."):
        if node is None:  # e.g. the outputs of a step that was skipped: empty, as on GitHub
            return ""
        if not isinstance(node, Mapping):
            raise ValueError(f"cannot evaluate {expression!r}")
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, Mapping):
        raise ValueError(f"{expression!r} is an object, not a value")
    return str(node)


def _evaluate(expression: str, context: Mapping[str, Any]) -> str:
    if not re.fullmatch(r"[A-Za-z_][\w.-]*", expression):
        raise ValueError(f"expression the local runner does not understand: {expression!r}")
    head = expression.split(".", 1)[0]
    if head not in {"inputs", "github", "runner", "steps", "env"}:
        raise ValueError(f"unknown context in {expression!r}")
    return _lookup(expression, context)


def _substitute(text: str, context: Mapping[str, Any]) -> str:
    return _EXPRESSION.sub(lambda match: _evaluate(match.group(1), context), text)


def _condition(text: str, context: Mapping[str, Any]) -> bool:
    found = _EXPRESSION.fullmatch(text.strip())
    expression = found.group(1) if found else text.strip()
    if expression == "success()":
        return True
    comparison = _COMPARISON.match(expression)
    if comparison is None:
        raise ValueError(f"condition the local runner does not understand: {expression!r}")
    left, operator, right = comparison.groups()
    value = _evaluate(left, context)
    return (value == right) if operator == "==" else (value != right)
