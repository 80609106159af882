"""The human report: rows for tables/CSV and a Markdown summary whose counts add up."""

from __future__ import annotations

from pathlib import Path

from support.user_lists import in_folder

from validation.spec import load_spec
from validation.user_report import REPORT_COLUMNS, render_markdown, report_rows, summary_line
from validation.users import validate_user_list

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme" / "customer.yaml"


def test_rows_markdown_and_summary(tmp_path: Path) -> None:
    """Each problem is one row with the report columns; the summary counts reconcile."""
    csv = tmp_path / "users.csv"
    csv.write_text(
        "email,password\njane@acme.test,Tr7!kd9Lqw\nbob@gmail.com,Qz1!\na|b@@acme.test,Tr7!kd9Lqw\n",
        encoding="utf-8",
    )
    report = validate_user_list(in_folder(load_spec(EXAMPLE), tmp_path), csv)
    rows = report_rows(report)
    assert rows and all(tuple(r) == REPORT_COLUMNS for r in rows)
    assert summary_line(report).startswith("3 rows: 1 valid, 2 invalid")
    markdown = render_markdown(report, "Acme Corp", limit=2)
    assert markdown.startswith("# User list for Acme Corp: has problems")
    assert "| address not at a customer domain | 1 |" in markdown
    assert "more in the full report" in markdown
    assert "a\\|b@@acme.test" in render_markdown(report, "Acme Corp"), "pipes are escaped"
    assert "Qz1!" not in markdown


def test_valid_markdown() -> None:
    """A valid list says so and lists no problems."""
    report = validate_user_list(load_spec(EXAMPLE))
    markdown = render_markdown(report, "Acme Corp")
    assert "valid" in markdown and "Rows to fix" not in markdown
