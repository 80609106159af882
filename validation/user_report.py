"""Render a :class:`~validation.users.UserListReport` for people: table rows and a Markdown summary.

The same rows feed the Prefect table artifact, the run folder's CSV and the CLI table, so the
UI, the files and the terminal always agree. Values are already masked by the validator.
"""

from __future__ import annotations

from collections import Counter

from validation.users import UserListReport

__all__ = ["REPORT_COLUMNS", "RULE_LABELS", "render_markdown", "report_rows", "summary_line"]

REPORT_COLUMNS = ("row", "column", "value", "problem", "fix")
RULE_LABELS = {
    "columns": "header: unknown or missing column",
    "required": "empty cell",
    "surrounding_whitespace": "space before or after a value",
    "control_characters": "invisible control character",
    "address_syntax": "invalid email address",
    "customer_domain": "address not at a customer domain",
    "duplicate_address": "address listed twice",
    "password_characters": "password has characters a login cannot carry",
    "password_length": "password too short",
    "password_character_classes": "password uses too few character kinds",
    "password_common": "commonly used password",
    "password_contains_name": "password contains the user's name",
    "duplicate_source_username": "source login listed twice",
    "master_separator": "source login contains the master separator",
    "source_host_syntax": "invalid source server name",
    "source_port_range": "source port not 1-65535",
    "alias_syntax": "invalid alias",
    "alias_domain": "alias in another domain than its account",
    "alias_is_account": "alias is also a mailbox",
    "duplicate_alias": "alias listed on two accounts",
    "confusable_address": "warning: address looks like another",
}


def report_rows(report: UserListReport) -> list[dict[str, str | int]]:
    """Return one dict per problem with the keys of :data:`REPORT_COLUMNS`, in file order,
    then one per warning (its problem starts with ``warning:``)."""
    rows: list[dict[str, str | int]] = [
        {"row": p.row, "column": p.column, "value": p.value, "problem": p.problem, "fix": p.fix}
        for p in report.problems
    ]
    rows += [
        {
            "row": w.row,
            "column": w.column,
            "value": w.value,
            "problem": f"warning: {w.problem}",
            "fix": w.fix,
        }
        for w in report.warnings
    ]
    return rows


def summary_line(report: UserListReport) -> str:
    """``"22 rows: 20 valid, 2 invalid (3 problems)"``; counts always add up."""
    blank = f", {report.blank_rows} blank line(s) skipped" if report.blank_rows else ""
    warned = f", {len(report.warnings)} warning(s)" if report.warnings else ""
    return (
        f"{report.rows} rows: {report.valid_rows} valid, {report.invalid_rows} invalid "
        f"({len(report.problems)} problem(s)){warned}{blank}"
    )


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: UserListReport, customer: str, *, limit: int = 50) -> str:
    """Return the Markdown summary: verdict, counts, problems per rule, the first ``limit`` rows."""
    verdict = "valid" if report.valid else "has problems"
    lines = [
        f"# User list for {customer}: {verdict}",
        "",
        f"File: `{report.path}`",
        "",
        f"**{summary_line(report)}**",
        "",
    ]
    if report.valid:
        lines.append("Every row passed; the mailboxes can be created.")
        lines += _warning_lines(report)
        return "\n".join(lines) + "\n"
    by_rule = Counter(RULE_LABELS.get(p.rule, p.rule) for p in report.problems)
    lines += ["## Problems by kind", "", "| problem | count |", "|---|---|"]
    lines += [f"| {_cell(label)} | {count} |" for label, count in by_rule.most_common()]
    lines += ["", "## Rows to fix", ""]
    lines += ["| " + " | ".join(REPORT_COLUMNS) + " |", "|---|---|---|---|---|"]
    for row in report_rows(report)[:limit]:
        lines.append("| " + " | ".join(_cell(row[c]) for c in REPORT_COLUMNS) + " |")
    if len(report.problems) > limit:
        lines += ["", f"... and {len(report.problems) - limit} more in the full report."]
    lines += _warning_lines(report)
    return "\n".join(lines) + "\n"


def _warning_lines(report: UserListReport) -> list[str]:
    if not report.warnings:
        return []
    lines = ["", "## Warnings (the list is not invalid for these)", ""]
    lines += ["| row | column | value | warning | fix |", "|---|---|---|---|---|"]
    for w in report.warnings:
        cells = (w.row, w.column, w.value, w.problem, w.fix)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines
