"""Report files for people who do not use the Prefect UI: one folder per flow run.

Layout: ``<output dir>/<customer-slug>/<UTC timestamp>-<flow name>/``. Every CSV written
here escapes cells a spreadsheet would run as a formula (OWASP "CSV injection"): a cell
starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``.
The markdown versions of those reports build their tables with :func:`markdown_table`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["RunFolder", "escape_cell", "markdown_table"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> str:
    """Return ``value`` as text a spreadsheet shows literally (``=1+1`` → ``'=1+1``)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def markdown_table(
    columns: Sequence[str], rows: Iterable[Sequence[object] | Mapping[str, object]]
) -> list[str]:
    """Return the lines of a markdown table: header, ``|---|`` rule, one line per row.

    A row is its cells in column order, or a mapping read by column name (as
    :meth:`RunFolder.write_csv` reads it). Cells are formatted as an f-string would
    (``| a.test | yes | 1.2 |``); the caller escapes or shortens them.
    """
    return [
        _table_line(columns),
        "|" + "---|" * len(columns),
        *(_table_line([r[c] for c in columns] if isinstance(r, Mapping) else r) for r in rows),
    ]


def _table_line(cells: Iterable[object]) -> str:
    return "| " + " | ".join(f"{c}" for c in cells) + " |"


@dataclass(frozen=True)
class RunFolder:
    """The folder one flow run writes its reports to."""

    path: Path

    @classmethod
    def create(
        cls, output_dir: Path, customer_slug: str, flow_name: str, *, now: datetime | None = None
    ) -> RunFolder:
        """Make a new, empty run folder; a second run in the same second gets ``…-2``."""
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        base = Path(output_dir) / customer_slug / f"{stamp}-{flow_name}"
        base.parent.mkdir(parents=True, exist_ok=True)
        path, n = base, 1
        while True:  # mkdir itself claims the name, so two concurrent runs never share one
            try:
                path.mkdir()
            except FileExistsError:
                n += 1
                path = base.with_name(f"{base.name}-{n}")
                continue
            return cls(path)

    def write_csv(
        self, name: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]
    ) -> Path:
        """Write rows (missing keys left empty) with formula-escaped cells; return the path."""
        target = self.path / name
        with target.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([escape_cell(c) for c in columns])
            for row in rows:
                writer.writerow([escape_cell(row.get(c)) for c in columns])
        return target

    def write_text(self, name: str, text: str) -> Path:
        target = self.path / name
        target.write_text(text, encoding="utf-8")
        return target

    def write_json(self, name: str, data: Any) -> Path:
        target = self.path / name
        target.write_text(json.dumps(data, indent=2, default=str, sort_keys=True), encoding="utf-8")
        return target
