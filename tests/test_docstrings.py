"""Every test states its rule in a docstring (STYLE rule 15), checked by an AST scan of tests/."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _tests_without_docstring(path: Path) -> list[str]:
    """Return ``path:line name`` for each ``test*`` function in the file that has no docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(TESTS.parent)
    return [
        f"{where}:{node.lineno} {node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
        and not (ast.get_docstring(node) or "").strip()
    ]


def test_every_test_states_its_rule() -> None:
    """Every test function in tests/**/test_*.py has a docstring of its own; the failure lists
    each one that has none, by file, line and name."""
    files = sorted(TESTS.rglob("test_*.py"))
    assert len(files) > 50  # the scan found the suite, not an empty folder
    missing = [entry for path in files for entry in _tests_without_docstring(path)]
    assert not missing, "tests without a docstring stating their rule:\n" + "\n".join(missing)
