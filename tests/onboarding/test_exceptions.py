"""Every exception tree drawn in a docstring is the tree in the code (STYLE rule 4).

The root drawing in ``onboarding/_exceptions.py`` shows :class:`OnboardingError` and each
engine's base class, annotated with the package that defines it; each base's subtree is drawn
in the docstring of its defining module (``onboarding/<engine>/_exceptions.py``,
``lab/_errors.py``). Walking ``__subclasses__()`` after importing every module of those
packages, each class with subclasses must be drawn with exactly those children: a class added
in code but not drawn, drawn but not in the code, or drawn under the wrong parent fails.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

import onboarding
from onboarding import OnboardingError

ROOT_MODULE = "onboarding._exceptions"
_LINE = re.compile(r"^(?P<prefix>(?:[│ ] {3})*)(?P<branch>[├└]── )?(?P<name>[A-Za-z_]\w*)")
_PACKAGE = re.compile(r"\((?P<package>[a-z_][\w.]*)(?::[^)]*)?\)")


@dataclass
class Node:
    """One drawn class: its name, the packages its annotation names, its drawn children."""

    name: str
    package: str | None = None
    children: list[Node] = field(default_factory=list)


def parse_drawing(doc: str) -> Node | None:
    """The first tree drawn in a ``::`` literal block of ``doc`` (None if there is none)."""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if not line.rstrip().endswith("::"):
            continue
        block: list[str] = []
        for text in lines[i + 1 :]:
            if text.strip() and not text.startswith(" "):
                break
            block.append(text)
        body = [t for t in block if t.strip()]
        if body and any("── " in t for t in body):
            return _parse_block(body)
    return None


def _parse_block(body: list[str]) -> Node:
    indent = min(len(t) - len(t.lstrip(" ")) for t in body)
    stack: list[Node] = []
    for text in body:
        m = _LINE.match(text[indent:])
        assert m, f"not a tree line: {text!r}"
        depth = len(m["prefix"]) // 4 + (1 if m["branch"] else 0)
        assert depth <= len(stack), f"line drawn too deep: {text!r}"
        assert (depth == 0) == (not stack), f"a drawing has one root: {text!r}"
        pkg = _PACKAGE.search(text[m.end() :])
        node = Node(m["name"], pkg["package"] if pkg else None)
        del stack[depth:]
        if stack:
            stack[-1].children.append(node)
        stack.append(node)
    return stack[0]


def subclasses(cls: type, include: Callable[[type], bool]) -> dict[str, type]:
    """The direct subclasses of ``cls`` that ``include`` keeps, by name."""
    out: dict[str, type] = {}
    found: list[type] = cls.__subclasses__()
    for sub in found:
        if include(sub):
            assert sub.__name__ not in out, f"two subclasses of {cls.__name__} named {sub.__name__}"
            out[sub.__name__] = sub
    return out


def tree_problems(
    drawings: Sequence[tuple[str, Node, type]], root: type, include: Callable[[type], bool]
) -> list[str]:
    """What the drawings ``(where, drawn node, its class)`` get wrong about the tree at ``root``.

    A drawn node with children must list exactly the class's subclasses; a drawn leaf is fine
    when another drawing expands it. Every class with subclasses must be expanded somewhere.
    """
    problems: list[str] = []
    expanded: dict[type, list[tuple[str, set[str]]]] = {}

    def walk(where: str, node: Node, cls: type) -> None:
        if not node.children:
            return
        actual = subclasses(cls, include)
        expanded.setdefault(cls, []).append((where, {c.name for c in node.children}))
        for child in node.children:
            if child.name in actual:
                walk(where, child, actual[child.name])
            else:
                problems.append(f"{where}: {child.name} is drawn under {cls.__name__}, "
                                "but is not a subclass of it in the code")  # fmt: skip

    for where, node, cls in drawings:
        walk(where, node, cls)

    def check(cls: type) -> None:
        actual = subclasses(cls, include)
        if actual and cls not in expanded:
            problems.append(f"{cls.__name__} has subclasses {sorted(actual)} that no drawing shows")
        for where, drawn in expanded.get(cls, []):
            missing = sorted(set(actual) - drawn)
            if missing:
                problems.append(f"{where}: {cls.__name__} lacks its subclasses {missing}")
        for sub in actual.values():
            check(sub)

    check(root)
    return problems


# -- the project's drawings -----------------------------------------------------------------


def _root_drawing() -> Node:
    node = parse_drawing(sys.modules[ROOT_MODULE].__doc__ or "")
    assert node is not None and node.name == "OnboardingError"
    return node


def _packages() -> list[str]:
    """The packages the root drawing names, and every engine package under onboarding/."""
    named = [c.package for c in _root_drawing().children if c.package]
    engines = [f"onboarding.{m.name}" for m in pkgutil.iter_modules(onboarding.__path__) if m.ispkg]
    return sorted({*named, *engines})


def _import_all(package: str) -> Iterator[ModuleType]:
    """Import ``package`` and every module under it, so all their classes exist."""
    mod = importlib.import_module(package)
    yield mod
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []), package + "."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            yield importlib.import_module(info.name)


def _project_drawings() -> tuple[list[tuple[str, Node, type]], set[str]]:
    tops = {p.split(".")[0] for p in _packages()}
    modules = {m.__name__: m for top in sorted(tops) for m in _import_all(top)}
    root_node = _root_drawing()
    drawings: list[tuple[str, Node, type]] = [(ROOT_MODULE, root_node, OnboardingError)]
    # Each class the root drawing shows may draw its subtree in the module that defines it;
    # each engine's _exceptions.py draws one whether or not the root drawing shows its base.
    sources = {name for name in modules if name.endswith("._exceptions")} - {ROOT_MODULE}
    bases = subclasses(OnboardingError, lambda c: c.__module__.split(".")[0] in tops)
    sources |= {bases[c.name].__module__ for c in root_node.children if c.name in bases}
    for name in sorted(sources):
        node = parse_drawing(modules[name].__doc__ or "")
        if node is None:
            continue
        where = str(Path(*name.split("."))) + ".py"
        if node.name == "OnboardingError":
            # An engine's drawing starts at the root only to show where its base hangs.
            assert len(node.children) == 1, f"{where}: draws more than its own base"
            node = node.children[0]
            assert node.name in bases, f"{where}: {node.name} is not under OnboardingError"
        drawings.append((where, node, getattr(modules[name], node.name)))
    return drawings, tops


def test_every_drawn_tree_matches_the_code() -> None:
    """Root and engine drawings list exactly each class's subclasses, nothing more or less."""
    drawings, tops = _project_drawings()
    assert (
        tree_problems(drawings, OnboardingError, lambda c: c.__module__.split(".")[0] in tops) == []
    )


def test_the_root_drawing_names_every_engine_package() -> None:
    """Every engine package under onboarding/ with its own exceptions is named in the root."""
    named = {c.package for c in _root_drawing().children}
    for info in pkgutil.iter_modules(onboarding.__path__):
        if info.ispkg and (Path(onboarding.__path__[0]) / info.name / "_exceptions.py").exists():
            assert f"onboarding.{info.name}" in named


# -- the checker itself, on a made-up tree --------------------------------------------------


class _Base(Exception):
    pass


class _A(_Base):
    pass


class _B(_Base):
    pass


class _A1(_A):
    pass


def _drawn(text: str) -> list[tuple[str, Node, type]]:
    node = parse_drawing("Tree::\n\n" + text)
    assert node is not None
    return [("made-up", node, _Base)]


def _mine(cls: type) -> bool:
    return cls.__module__ == __name__


def test_a_correct_drawing_passes() -> None:
    """A drawing with every class under its parent has no problem."""
    tree = "    _Base\n    ├── _A\n    │   └── _A1\n    └── _B\n"
    assert tree_problems(_drawn(tree), _Base, _mine) == []


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ("    _Base\n    ├── _A\n    │   └── _A1\n", "_Base lacks its subclasses ['_B']"),
        ("    _Base\n    ├── _A\n    └── _B\n", "_A has subclasses ['_A1'] that no drawing"),
        (
            "    _Base\n    ├── _A\n    │   └── _A1\n    ├── _B\n    └── _C\n",
            "_C is drawn under _Base, but is not a subclass",
        ),
        (
            "    _Base\n    ├── _A\n    ├── _A1\n    └── _B\n",
            "_A1 is drawn under _Base, but is not a subclass",
        ),
    ],
    ids=["class-not-drawn", "subtree-not-drawn", "drawn-not-in-code", "wrong-parent"],
)
def test_a_wrong_drawing_fails(tree: str, expected: str) -> None:
    """Undrawn classes, drawn classes that do not exist, and wrong parents are all reported."""
    problems = tree_problems(_drawn(tree), _Base, _mine)
    assert any(expected in p for p in problems), problems
