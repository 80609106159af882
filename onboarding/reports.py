"""Report files for people who do not use the Prefect UI: one folder per flow run.

Layout: ``<output dir>/<customer-slug>/<UTC timestamp>-<flow name>/``. Every CSV written
here escapes cells a spreadsheet would run as a formula (OWASP "CSV injection"): a cell
starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``.
The markdown versions of those reports build their tables with :func:`markdown_table`.

Reports name customers' users and their problems, so folders are created 0700 and files
0600 (:func:`private_dir`, :func:`write_private`; also used for the sync state DB and the
cutover ledger), whatever the umask: only the operator's account reads them (issue 13).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, with_config

__all__ = [
    "RunFolder",
    "escape_cell",
    "markdown_table",
    "private_dir",
    "private_file",
    "report_row",
    "write_private",
]

#: For a frozen dataclass that is also a row of a flow's typed result (``flows/results.py`` uses
#: it as the field type instead of a copy of its fields): pydantic refuses unknown keys in it,
#: and its JSON schema lists every field as required, as every dump of it has them all.
report_row = with_config(
    ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)
)

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


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents as 0700 (existing folders are left as they are)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        folder.chmod(0o700)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if it does not exist, else make it 0600; return it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    path.chmod(0o600)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, a file only its owner may read (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


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
        private_dir(base.parent)
        path, n = base, 1
        while True:  # mkdir itself claims the name, so two concurrent runs never share one
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                n += 1
                path = base.with_name(f"{base.name}-{n}")
                continue
            path.chmod(0o700)
            return cls(path)

    def write_csv(
        self, name: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]
    ) -> Path:
        """Write rows (missing keys left empty) with formula-escaped cells; return the path."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([escape_cell(c) for c in columns])
        for row in rows:
            writer.writerow([escape_cell(row.get(c)) for c in columns])
        return write_private(self.path / name, buffer.getvalue())

    def write_text(self, name: str, text: str) -> Path:
        return write_private(self.path / name, text)

    def write_json(self, name: str, data: Any) -> Path:
        return write_private(
            self.path / name, json.dumps(data, indent=2, default=str, sort_keys=True)
        )
