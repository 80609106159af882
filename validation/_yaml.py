"""Parse the customer spec's YAML with limits: size, nesting depth, alias expansion, key rules.

PyYAML's ``safe_load`` is safe from code execution but not from hostile shapes: a 2.6 KB
"billion laughs" alias bomb expands to billions of values for whoever walks the result,
deeply nested brackets overflow its recursive composer, an integer of more than 4,300 digits
raises a bare ``ValueError``, and a key written twice silently keeps the last value.
:func:`load_yaml` first walks the event stream (iteratively, no recursion) counting depth and
the expanded number of values, then constructs with a loader that refuses duplicate keys.

Every refusal is a :class:`YAMLRefused` whose message is the end of one sentence naming the
line; it never quotes a value (a value may be a pasted secret), only key names.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_DEPTH", "MAX_SCALAR_CHARS", "MAX_VALUES", "YAMLRefused", "load_yaml"]

MAX_DEPTH = 32  #: nested mappings/lists; the spec model itself is 5 deep
MAX_VALUES = 100_000  #: values after expanding aliases; a large real spec has a few thousand
MAX_SCALAR_CHARS = 4096  #: one value (host names, URLs, folder names are far shorter)


class YAMLRefused(Exception):
    """Raised with the rest of a sentence (``"line 3: ..."``) when the YAML is unusable."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _check_shape(text: str) -> None:
    """Raise :class:`YAMLRefused` when nesting, expansion or a value exceeds the limits."""
    stack: list[list[Any]] = [[0, None]]  # per open collection: expanded values, anchor
    anchors: dict[str, int] = {}
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        added = 0
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) > MAX_DEPTH:
                raise YAMLRefused(
                    f"line {_line(event.start_mark)}: nested more than {MAX_DEPTH} levels "
                    "deep; the spec needs a few levels only (see examples/acme/customer.yaml)",
                    line=_line(event.start_mark),
                )
            stack.append([1, event.anchor])
            added = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            count, anchor = stack.pop()
            if anchor is not None:
                anchors[anchor] = count
            stack[-1][0] += count
        elif isinstance(event, yaml.ScalarEvent):
            if len(event.value) > MAX_SCALAR_CHARS:
                raise YAMLRefused(
                    f"line {_line(event.start_mark)}: a value is longer than "
                    f"{MAX_SCALAR_CHARS} characters, the limit for one setting; shorten it",
                    line=_line(event.start_mark),
                )
            if event.anchor is not None:
                anchors[event.anchor] = 1
            stack[-1][0] += 1
            added = 1
        elif isinstance(event, yaml.AliasEvent):
            added = anchors.get(event.anchor or "", 1)
            stack[-1][0] += added
        total += added
        if total > MAX_VALUES:
            line = _line(event.start_mark)
            raise YAMLRefused(
                f"line {line}: the document expands to more than {MAX_VALUES:,} values "
                "(through YAML aliases *name); write the values out instead of repeating aliases",
                line=line,
            )


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # merged keys may be overridden: that is what << is for
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base class names it
                break
            if duplicate:
                name = str(key)[:80]
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {name!r} is written twice in the same mapping; keep one",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Return the parsed document, or raise :class:`YAMLRefused` (one sentence, a line)."""
    try:
        _check_shape(text)
        return yaml.load(text, Loader=_SpecLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise YAMLRefused(f"not valid YAML{where}: {problem}", line=_line(mark)) from None
    except (ValueError, OverflowError, RecursionError):
        # int() of more than 4,300 digits, a date out of range: the value, not the syntax.
        raise YAMLRefused(
            "a value cannot be read (a number or date out of range); check the numbers and "
            "dates in the file"
        ) from None
