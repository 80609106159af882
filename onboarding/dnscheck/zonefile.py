"""Render records as zone-file lines (RFC 1035 §5) and split long TXT values.

A TXT rdata is one or more character-strings of at most 255 bytes each (RFC 1035 §3.3.14);
receivers join them without a separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2). So::

    split_txt("v=DKIM1; k=rsa; p=" + 400 * "A") -> ("v=DKIM1; k=rsa; p=AAA…", "AAA…")
    txt_rdata('say "hi"') -> '"say \\"hi\\""'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Record", "render_zone", "split_txt", "txt_rdata"]

MAX_STRING = 255


def split_txt(value: str, size: int = MAX_STRING) -> tuple[str, ...]:
    """Split ``value`` into chunks of at most ``size`` bytes (UTF-8), never inside a character."""
    if not 1 <= size <= MAX_STRING:
        raise ValueError(f"size must be 1-{MAX_STRING}")
    chunks: list[str] = []
    current = ""
    for ch in value:
        if len((current + ch).encode("utf-8")) > size:
            chunks.append(current)
            current = ""
        current += ch
    if current or not chunks:
        chunks.append(current)
    return tuple(chunks)


def _quote(chunk: str) -> str:
    return '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"'


def txt_rdata(value: str) -> str:
    """Return the zone-file rdata for a TXT value: quoted ≤255-byte strings, space-separated."""
    return " ".join(_quote(c) for c in split_txt(value))


@dataclass(frozen=True)
class Record:
    """One resource record to publish or remove. ``name`` is absolute without trailing dot."""

    name: str
    rdtype: str
    value: str
    ttl: int = 3600

    @property
    def rdata(self) -> str:
        """The zone-file rdata (TXT quoted and split; others as given)."""
        return txt_rdata(self.value) if self.rdtype == "TXT" else self.value

    def zone_line(self) -> str:
        """Return ``<name>. <ttl> IN <type> <rdata>``."""
        return f"{self.name}. {self.ttl} IN {self.rdtype} {self.rdata}"


def render_zone(records: Sequence[Record], *, header: str = "") -> str:
    """Return zone-file text for ``records`` with an optional ``;`` comment header."""
    lines = [f"; {line}" for line in header.splitlines()] if header else []
    lines.extend(r.zone_line() for r in records)
    return "\n".join(lines) + "\n"
