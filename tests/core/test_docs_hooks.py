"""docs/plugins/hooks.md has one section per hook, headed by the hook's exact signature."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from envdrift import hookspecs

HOOKS_DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "hooks.md"
#: ## `signature` {#anchor}
HEADING = re.compile(r"^## `(?P<signature>[^`]+)`(?: \{#(?P<anchor>[\w-]+)\})?$", re.MULTILINE)


def signature_of(hook: Any) -> str:
    """``name(arg: Type, …) -> Return`` as ``hookspecs.py`` declares it (whitespace normalised)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(hook))).body[0]
    assert isinstance(node, ast.FunctionDef)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{node.name}({ast.unparse(node.args)}){returns}"


def hooks() -> dict[str, Any]:
    """Every hookspec in ``envdrift.hookspecs``, by name."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"  # pluggy's HookspecMarker sets this
    return {
        name: value
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, marker)
    }


def sections() -> dict[str, tuple[str, str | None, str]]:
    """hook name -> (heading signature, anchor, section text) from hooks.md."""
    text = HOOKS_DOC.read_text()
    found: dict[str, tuple[str, str | None, str]] = {}
    matches = list(HEADING.finditer(text))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        body = text[match.end() : following.start() if following else len(text)]
        signature = match["signature"]
        name = signature.split("(", 1)[0]
        assert name not in found, f"hooks.md has two sections for {name}"
        found[name] = (signature, match["anchor"], body)
    return found


def test_there_are_hooks_to_document() -> None:
    assert {"envdrift_register_vaults", "envdrift_verify_decryption"} <= set(hooks())


@pytest.mark.parametrize("name", sorted(hooks()))
def test_each_hook_has_a_section_headed_by_its_exact_signature(name: str) -> None:
    documented = sections()
    assert name in documented, f"docs/plugins/hooks.md has no section for {name}"
    heading, anchor, _ = documented[name]
    assert heading == signature_of(hooks()[name])
    # Links elsewhere in the docs use the hook's name as the anchor.
    assert anchor == name


@pytest.mark.parametrize("name", sorted(hooks()))
def test_each_section_says_how_answers_are_combined(name: str) -> None:
    _, _, body = sections()[name]
    firstresult = getattr(hooks()[name], f"{hookspecs.PROJECT_NAME}_spec")["firstresult"]
    expected = (
        "**Answers:** the first non-`None` answer wins (`firstresult`)."
        if firstresult
        else "**Answers:** all collected."
    )
    assert expected in body


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    assert set(sections()) <= set(hooks())
