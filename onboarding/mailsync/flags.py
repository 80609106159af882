"""Which source flags the destination will keep (I4). Pure.

``\\Recent`` is never sent (RFC 3501 §2.3.2: only the server sets it). System flags pass if the
destination's PERMANENTFLAGS list them; keywords pass if it lists them or ``\\*`` (new keywords
allowed) and they are valid atoms. Everything else is dropped and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.mailsync.wire import Token, is_atom

__all__ = ["FlagFilter", "listed_flags"]

SYSTEM_FLAGS = frozenset({"\\SEEN", "\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\DRAFT"})


def listed_flags(tok: Token) -> tuple[str, ...]:
    """A FETCH ``FLAGS`` list as text, without ``\\Recent`` (session state, not a message's)."""
    if not isinstance(tok, list):
        return ()
    texts = (t.decode("utf-8", "replace") if isinstance(t, bytes) else "" for t in tok)
    return tuple(f for f in texts if f.upper() != "\\RECENT")


@dataclass(frozen=True)
class FlagFilter:
    """Built from a destination folder's PERMANENTFLAGS; ``refused`` grows as APPENDs fail."""

    permanent: frozenset[str]
    refused: frozenset[str] = frozenset()

    @classmethod
    def from_permanent(cls, permanent: Iterable[str]) -> FlagFilter:
        perm = frozenset(p.upper() for p in permanent)
        if not perm:
            # No PERMANENTFLAGS answer: RFC 3501 §7.1 says assume all flags can be changed.
            perm = SYSTEM_FLAGS | {"\\*"}
        return cls(perm)

    def split(self, flags: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Return (kept, dropped); ``\\Recent`` is silently removed (it is not a user flag)."""
        kept: list[str] = []
        dropped: list[str] = []
        for flag in flags:
            up = flag.upper()
            if up == "\\RECENT":
                continue
            if up in self.refused:
                dropped.append(flag)
            elif flag.startswith("\\"):
                (kept if up in self.permanent else dropped).append(flag)
            elif is_atom(flag.encode("utf-8", "replace")) and (
                "\\*" in self.permanent or up in self.permanent
            ):
                kept.append(flag)
            else:
                dropped.append(flag)
        return tuple(sorted(kept)), tuple(sorted(dropped))

    def refuse(self, flags: Iterable[str]) -> FlagFilter:
        """Return a filter that also drops ``flags`` (after the server refused them)."""
        return FlagFilter(self.permanent, self.refused | {f.upper() for f in flags})

    @staticmethod
    def keywords(flags: Iterable[str]) -> tuple[str, ...]:
        return tuple(f for f in flags if not f.startswith("\\"))
