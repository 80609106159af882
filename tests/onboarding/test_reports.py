"""Run folders: one per flow run, never shared, and CSV cells a spreadsheet shows literally."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from support.modes import mode, open_umask

from onboarding.reports import RunFolder, escape_cell, markdown_table

NOW = datetime(2026, 11, 27, 4, 30, 0, tzinfo=UTC)


def test_runs_in_the_same_second_get_separate_folders(tmp_path: Path) -> None:
    """A second run in the same second gets ``-2``; nothing is written into the first one."""
    first = RunFolder.create(tmp_path, "acme", "provision", now=NOW)
    second = RunFolder.create(tmp_path, "acme", "provision", now=NOW)
    assert first.path == tmp_path / "acme" / "20261127T043000Z-provision"
    assert second.path == tmp_path / "acme" / "20261127T043000Z-provision-2"
    assert second.path.is_dir() and not any(second.path.iterdir())


def test_formula_cells_are_escaped_and_missing_keys_left_empty(tmp_path: Path) -> None:
    """OWASP CSV injection: ``=``, ``+``, ``-``, ``@``, tab and CR starts get a leading quote."""
    folder = RunFolder.create(tmp_path, "acme", "validate", now=NOW)
    path = folder.write_csv("rows.csv", [{"a": "=1+1", "b": "@SUM(A1)"}, {"a": "ok"}], ["a", "b"])
    with path.open(newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [["a", "b"], ["'=1+1", "'@SUM(A1)"], ["ok", ""]]
    assert [escape_cell(v) for v in ("-2", "+x", "\tx", "\rx", None, 3)] == [
        "'-2",
        "'+x",
        "'\tx",
        "'\rx",
        "",
        "3",
    ]


def test_markdown_table_reads_sequences_and_mappings_in_column_order() -> None:
    """A table is its header, one ``---`` rule per column, and one line per row, whether the row
    is its cells in order or a mapping read by column name."""
    lines = markdown_table(
        ("domain", "ok", "seconds"),
        [("a.test", "yes", 1.5), {"seconds": "", "ok": "no", "domain": "b.test"}],
    )
    assert lines == [
        "| domain | ok | seconds |",
        "|---|---|---|",
        "| a.test | yes | 1.5 |",
        "| b.test | no |  |",
    ]


def test_run_folders_are_0700_and_report_files_0600(tmp_path: Path) -> None:
    """Rule: reports name users and their problems; the folders (customer and run) are 0700
    and every file 0600 whatever the umask, so only the operator's account reads them."""
    with open_umask():
        run = RunFolder.create(tmp_path / "runs", "acme", "provision")
        files = [
            run.write_csv("a.csv", [{"x": 1}], ["x"]),
            run.write_text("b.md", "# hi"),
            run.write_json("c.json", {"k": 1}),
        ]
    assert mode(run.path) == 0o700 and mode(run.path.parent) == 0o700
    assert mode(tmp_path / "runs") == 0o700
    assert [mode(f) for f in files] == [0o600] * 3
    assert files[0].read_bytes() == b"x\r\n1\r\n"
