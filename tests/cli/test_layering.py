"""The command line runs flows and nothing under them: no module under cli/ imports tasks/
(or an engine's private module), and none keeps mutable state at module level."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "cli"
MODULES = sorted(CLI.glob("*.py"))


def _imports(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_cli_never_imports_tasks_or_engine_internals(path: Path) -> None:
    """cli/ reaches tasks and engines only through flows (and engines' public packages)."""
    imports = _imports(ast.parse(path.read_text(encoding="utf-8")))
    assert not [m for m in imports if m == "tasks" or m.startswith("tasks.")], imports
    private = [m for m in imports if m.startswith("onboarding.") and "._" in m]
    assert not private, private


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_cli_has_no_global_statement(path: Path) -> None:
    """No command rebinds module state (``global``): each command's output is an Output."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Global)]
