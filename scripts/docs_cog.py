"""Regenerate the generated parts of the docs and code, or check that they are current.

    .venv/bin/python scripts/docs_cog.py            # rewrite them in place
    .venv/bin/python scripts/docs_cog.py --check    # exit 1 when one is stale

Code shown in the docs lives in files that tests run; the Markdown holds a copy that
cog (https://nedbatchelder.com/code/cog) refreshes. A block looks like this:

    <!-- [[[cog include("envdrift-core/src/envdrift/builtins/files.py", "FilesVault.fetch") ]]] -->
    ```python
    …generated…
    ```
    <!-- [[[end]]] -->

``cli_help(*args)`` pastes the ``--help`` text of ``envdrift ARGS`` (docs/cli.md).
``command_summaries()`` writes ``SUMMARIES`` in envdrift/cli/__init__.py: what
``envdrift --help`` lists for each command, from the command's own help.
``include(path, name=None, *, header=False)`` pastes a whole file, or one class or
function of a Python file found by its dotted name (decorators and the comments right
above it included). ``header=True`` stops a class at its first method.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Source files with a cog block: code generated from the commands themselves.
GENERATED_CODE = ("envdrift-core/src/envdrift/cli/__init__.py",)
PROLOGUE = "from docs_cog import cli_help, command_summaries, include"
LINE_LENGTH = 100  # ruff's, in pyproject.toml
DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
LANGUAGES = {".py": "python", ".toml": "toml", ".md": "markdown", ".sh": "sh"}


def include(path: str, name: str | None = None, *, header: bool = False) -> None:
    """Emit ``path`` (or its part ``name``) as a fenced code block into the cog output."""
    import cog  # only importable while cog runs

    source = (ROOT / path).read_text()
    text = source if name is None else _python_part(source, name, header=header, path=path)
    cog.out(f"```{LANGUAGES.get(Path(path).suffix, '')}\n{text.rstrip()}\n```\n")


def cli_help(*args: str) -> None:
    """Emit the ``--help`` text of ``envdrift ARGS`` as a fenced block (docs/cli.md)."""
    import cog
    from click.testing import CliRunner
    from envdrift.cli import cli

    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="envdrift", terminal_width=88)
    if result.exit_code != 0:
        raise SystemExit(f"docs_cog: envdrift {' '.join(args)} --help failed: {result.output}")
    cog.out(f"```text\n{result.stdout.rstrip()}\n```\n")


def command_summaries() -> None:
    """Emit ``SUMMARIES``: each listed command's ``envdrift --help`` line, as ruff lays
    out a dict literal (envdrift/cli/__init__.py)."""
    import click
    import cog
    from envdrift.cli import COMMANDS, cli, command_summary

    cog.outl("SUMMARIES: dict[str, str] = {")
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        if command is not None and not command.hidden:
            cog.outl(_dict_item(name, command_summary(command)))
    cog.outl("}")


def _dict_item(key: str, text: str) -> str:
    """``"key": "text",`` on one line when it fits, else the value in parentheses, as
    implicitly concatenated parts of at most one line each."""
    line = f"    {_literal(key)}: {_literal(text)},"
    if len(line) <= LINE_LENGTH:
        return line
    width = LINE_LENGTH - len("        ")
    parts = [text]
    if len(_literal(text)) > width:
        parts = [""]
        for word in text.split(" "):
            if parts[-1] and len(_literal(f"{parts[-1]} {word} ")) > width:
                parts[-1] += " "  # each part but the last ends with its space
                parts.append(word)
            else:
                parts[-1] = f"{parts[-1]} {word}" if parts[-1] else word
    body = "\n".join(f"        {_literal(part)}" for part in parts)
    return f"    {_literal(key)}: (\n{body}\n    ),"


def _literal(text: str) -> str:
    """``text`` as a string literal in the quotes ruff keeps."""
    if '"' in text and "'" not in text:
        return repr(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _python_part(source: str, dotted: str, *, header: bool, path: str) -> str:
    lines = source.splitlines()
    scope: list[ast.stmt] = ast.parse(source).body
    node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for part in dotted.split("."):
        node = next((n for n in scope if isinstance(n, DEFINITIONS) and n.name == part), None)
        if node is None:
            raise SystemExit(f"docs_cog: {path} has no {dotted}")
        scope = node.body
    if node is None:
        raise SystemExit(f"docs_cog: empty name for {path}")
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1  # the comment right above belongs to it
    end = node.end_lineno or node.lineno
    if header and isinstance(node, ast.ClassDef):
        first_def = next(
            (n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None
        )
        if first_def is not None:
            end = min([first_def.lineno, *(d.lineno for d in first_def.decorator_list)]) - 1
            while lines[end - 1].strip().startswith("#") or not lines[end - 1].strip():
                end -= 1
    return "\n".join(lines[start:end])


def markdown_files() -> list[Path]:
    """Every Markdown file under docs/ that holds a cog block."""
    return sorted(p for p in DOCS.rglob("*.md") if "[[[cog" in p.read_text())


def _cog(files: list[str], *, check: bool) -> int:
    """Run cog over ``files`` in a fresh interpreter (``-B``: no bytecode of a file it
    rewrites)."""
    args = ["--check" if check else "-r", "-I", str(ROOT / "scripts"), "-p", PROLOGUE, *files]
    return subprocess.run([sys.executable, "-B", "-m", "cogapp", *args], check=False).returncode


def main(argv: list[str]) -> int:
    check = "--check" in argv
    docs = [str(p.relative_to(ROOT)) for p in markdown_files()]
    # Code first, and each batch in its own interpreter: the envdrift --help pasted into
    # docs/cli.md lists the SUMMARIES just written, not those imported before.
    status = max(_cog(files, check=check) for files in (list(GENERATED_CODE), docs) if files)
    if check and status:
        print(
            "docs or generated code are stale: run .venv/bin/python scripts/docs_cog.py",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    import os

    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
