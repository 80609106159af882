"""Tasks of the ``validate-users`` flow: check the user CSV, then publish the report.

``check_user_list`` reads a file full of passwords, so it persists no result and has no cache
key; what it returns (:class:`~validation.users.UserListReport`) holds no password. The
report goes to Prefect as a table artifact (``user-validation-<customer-slug>``, versioned per
run) plus a Markdown summary, and to the run folder as CSV and Markdown for people without the UI.
"""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from onboarding.reports import RunFolder
from validation.spec import OnboardingSpec
from validation.user_report import REPORT_COLUMNS, render_markdown, report_rows, summary_line
from validation.users import UserListReport, validate_user_list

__all__ = [
    "ARTIFACT_ROWS",
    "REPORT_CSV",
    "REPORT_MARKDOWN",
    "check_user_list",
    "publish_user_validation",
    "table_key",
]

ARTIFACT_ROWS = 5000  # a larger table slows the UI (and Prefect Cloud caps bodies at 5 MiB)
REPORT_CSV = "user-validation.csv"
REPORT_MARKDOWN = "user-validation.md"


def table_key(spec: OnboardingSpec) -> str:
    return f"user-validation-{spec.customer_slug}"


@task(name="check-user-list", persist_result=False, cache_policy=NO_CACHE)
def check_user_list(spec: OnboardingSpec, users_csv: Path | None = None) -> UserListReport:
    """Validate the CSV (``spec.users_csv`` unless given); the report holds no password."""
    return validate_user_list(spec, users_csv)


@task(name="publish-user-validation", persist_result=False, cache_policy=NO_CACHE)
def publish_user_validation(spec: OnboardingSpec, report: UserListReport) -> Path:
    """Write the report to a run folder and publish it as artifacts; return the folder."""
    rows = report_rows(report)
    markdown = render_markdown(report, spec.customer)
    folder = RunFolder.create(spec.output_dir, spec.customer_slug, "validate-users")
    folder.write_csv(REPORT_CSV, rows, REPORT_COLUMNS)
    folder.write_text(REPORT_MARKDOWN, markdown)
    shown = rows[:ARTIFACT_ROWS]
    more = f"; first {ARTIFACT_ROWS} rows, all in {folder.path}" if len(rows) > len(shown) else ""
    create_table_artifact(
        shown or {column: [] for column in REPORT_COLUMNS},
        key=table_key(spec),
        description=f"{summary_line(report)}{more}",
    )
    create_markdown_artifact(
        markdown,
        key=f"user-validation-summary-{spec.customer_slug}",
        description=summary_line(report),
    )
    get_run_logger().info("%s: %s; report in %s", report.path, summary_line(report), folder.path)
    return folder.path
