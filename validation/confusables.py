"""Addresses that look alike but are different mailboxes: a warning, never an error.

``jane@acme.test`` and ``jаne@acme.test`` (a Cyrillic ``а``) are two mailboxes a person cannot
tell apart; so are ``rene@`` and ``rené@``. Both may be right, so validation warns instead of
refusing. Two addresses are confusable when their *skeletons* match: NFKD, without combining
marks, case-folded, each character replaced by the representative of its Unicode
confusables group (UTS #39 data, shipped by ``confusable-homoglyphs``). A single address whose
local part or a domain label mixes scripts with look-alike letters is flagged too.

Only lists with a non-ASCII address pay for this: two ASCII addresses are never Unicode
confusables of each other (``rn`` vs ``m`` is a typo, not a homograph).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import pandas as pd

from validation.addresses import mailbox_key

__all__ = ["Confusable", "confusable_addresses", "skeleton"]


@dataclass(frozen=True, slots=True)
class Confusable:
    """Row ``row``'s address looks like the addresses of ``like_rows`` (or mixes scripts)."""

    row: int
    like_rows: tuple[int, ...]
    mixed_scripts: tuple[str, ...] = ()  # e.g. ("CYRILLIC", "LATIN") when one part mixes


@cache
def _representatives() -> dict[str, str]:
    """Map each confusable character to one representative of its group (ASCII when any)."""
    from confusable_homoglyphs import confusables

    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            parent[c] = parent.get(parent[c], parent[c])
            c = parent[c]
        return c

    for char, homoglyphs in confusables.confusables_data.items():
        if len(char) != 1:
            continue
        for glyph in homoglyphs:
            other = glyph["c"]
            if len(other) == 1:
                a, b = find(char), find(other)
                if a != b:
                    parent[max(a, b, key=_rank)] = min(a, b, key=_rank)
    return {c: find(c) for c in parent}


def _rank(c: str) -> tuple[bool, int]:
    return (not c.isascii(), ord(c))  # ASCII first, then the lowest code point


def skeleton(text: str) -> str:
    """Return the form two look-alike strings share (``"jаne"`` -> ``"jane"``)."""
    reps = _representatives()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return "".join(reps.get(c, c) for c in bare)


def _mixed(part: str) -> tuple[str, ...]:
    from confusable_homoglyphs import categories, confusables

    part = unicodedata.normalize("NFC", part)
    if part.isascii():
        return ()
    scripts = categories.unique_aliases(part) - {"COMMON", "INHERITED"}  # marks, digits, dots
    if len(scripts) < 2 or not confusables.is_confusable(part, greedy=False):
        return ()
    return tuple(sorted(scripts))


def confusable_addresses(emails: pd.Series) -> list[Confusable]:
    """Return one finding per row whose address looks like another row's or mixes scripts.

    Exact duplicates (the same mailbox, already an error) are not findings.
    """
    values = emails.astype(str)
    if values.map(str.isascii).all():
        return []
    groups: dict[str, list[tuple[int, str]]] = {}
    for row, address in zip(values.index.tolist(), values.tolist(), strict=True):
        if "@" not in address:
            continue
        key = mailbox_key(address)
        local, _, domain = address.strip().rpartition("@")
        shown_domain = unicodedata.normalize("NFC", domain).lower()
        groups.setdefault(skeleton(f"{local}@{shown_domain}"), []).append((int(row), key))
    found: dict[int, Confusable] = {}
    for members in groups.values():
        for row, key in members:
            like = tuple(r for r, k in members if k != key)
            if like:
                found[row] = Confusable(row, like)
    for row, address in zip(values.index.tolist(), values.tolist(), strict=True):
        local, _, domain = address.strip().rpartition("@")
        parts = [local, *domain.split(".")]
        mixed = next((m for m in map(_mixed, parts) if m), ())
        if mixed:
            like = found[row].like_rows if row in found else ()
            found[int(row)] = Confusable(int(row), like, mixed)
    return [found[r] for r in sorted(found)]
