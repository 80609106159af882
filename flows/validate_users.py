"""Runbook phase 1, "collect the user list": check users.csv before anything is built.

Triggered by an operator when the customer sends (or re-sends) the CSV, and first by every
full onboarding run. Steps: read the customer spec; check every row of the CSV against the
schema (lazily: every bad row and every reason in one run); publish the report as artifacts
and to the run folder. The run ends Failed when a row has a problem, so nothing downstream
starts on a bad list; the report says which row, column and how to fix it.

It takes file paths only, never passwords: the task that reads the CSV persists nothing, and
the returned report (counts and validated users) holds no password. It creates nothing,
anywhere; later flows load the list themselves (:func:`tasks.customer.load_customer`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from prefect import flow
from prefect.states import State
from prefect.utilities.annotations import quote

from flows.results import UserValidationResult, end
from flows.run_names import run_name
from tasks.customer import read_spec
from tasks.validate_users import check_user_list, publish_user_validation, table_key
from validation.user_report import summary_line
from validation.users import UserListReport

__all__ = ["validate_users"]


@flow(name="validate-users", flow_run_name=run_name("validate users"), log_prints=False)
def validate_users(spec_path: Path, users_csv: Path | None = None) -> State[Any]:
    """Validate the user CSV of the customer in ``spec_path``; see the module doc.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
        users_csv: Check this CSV instead of the one the spec names.
    """
    spec = read_spec(spec_path)
    report = check_user_list(spec, users_csv)
    # quote(): Prefect need not walk 100,000 users looking for futures (~2 s); the task gets
    # the report itself. The flow's own return value is still walked (Prefect always does).
    folder = publish_user_validation(spec, cast(UserListReport, quote(report)))
    summary = summary_line(report)
    message = (
        summary if report.valid else f"{report.path}: {summary}; see artifact {table_key(spec)}"
    )
    return end(UserValidationResult.of(report, folder, message))
