"""The engine's shape stays reviewable: small classes, no private reach-through, no import cycle.

Read from the source with :mod:`ast`, so the rules hold for every module of the package,
including code behind ``if TYPE_CHECKING:`` (issue 9: ``FolderSync`` was a 512-line class that
wrote its parent run's private state through a type-only import circle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import onboarding.mailsync as mailsync

PACKAGE = "onboarding.mailsync"
SOURCES = sorted(Path(mailsync.__file__).parent.glob("*.py"))
MAX_CLASS_LINES = 300
# SQLAlchemy's documented Row accessor is spelt with an underscore to avoid column names.
FOREIGN_PUBLIC = frozenset({"_mapping"})


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _nodes() -> Iterator[tuple[Path, ast.AST]]:
    """Every syntax node of the package, with the module it is in."""
    for path in SOURCES:
        for node in ast.walk(_tree(path)):
            yield path, node


def test_no_class_passes_300_lines() -> None:
    """Every class of the package, counted from ``class`` to its last line, has at most 300."""
    too_long = [
        f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path, node in _nodes()
        if isinstance(node, ast.ClassDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    ]
    assert too_long == []


def test_private_attributes_are_only_read_on_self() -> None:
    """A ``_name`` attribute is only used as ``self._name``/``cls._name``, never ``other._name``."""
    reaches = [
        f"{path.name}:{node.lineno} {ast.unparse(node)}"
        for path, node in _nodes()
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and node.attr not in FOREIGN_PUBLIC
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]
    assert reaches == []


def _imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports, at run time or for type checking only."""
    out: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        out.update(n for n in names if n.startswith(PACKAGE + "."))
    return out


def test_modules_import_without_a_cycle() -> None:
    """The package's module imports form a DAG (type-only imports included)."""
    graph = {f"{PACKAGE}.{p.stem}": _imports(p) for p in SOURCES if p.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for dep in sorted(graph.get(module, ())):
            visit(dep, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
