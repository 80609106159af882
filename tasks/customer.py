"""Load a customer once per flow run: the spec, the validated user list, the passwords kept aside.

Every flow starts with :func:`load_customer`. It parses ``customer.yaml`` and checks the user
CSV exactly once; the flow then hands the models (never paths) to its tasks, so a flow and its
tasks always see the same spec, even if the file is edited during a long run. The passwords
from that same read go into the flow run's :mod:`tasks.vault`, never into the returned model:
the spec and the validated users hold no secret and are safe as task parameters.

It runs in the flow body, not as a task: the vault must live in the flow run's own context for
its tasks to inherit it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

from tasks.customers_root import resolve_spec_path
from tasks.vault import open_vault
from validation.spec import OnboardingSpec, load_spec
from validation.users import UserListReport, ValidatedUser, load_user_list, require_valid

__all__ = ["Customer", "load_customer", "read_spec"]


def _run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:  # called outside a flow run (a test, a script)
        return logging.getLogger(__name__)


@dataclass(frozen=True)
class Customer:
    """A customer as a flow run sees it: its spec and its user list's report (no password)."""

    spec: OnboardingSpec
    users_report: UserListReport

    @property
    def users(self) -> tuple[ValidatedUser, ...]:
        """The valid users, in CSV order."""
        return self.users_report.users


def read_spec(spec_path: Path | str) -> OnboardingSpec:
    """The spec ``spec_path`` names: a file, or a slug under the customers root
    (:mod:`tasks.customers_root`); for flows that need no user list."""
    spec = load_spec(resolve_spec_path(spec_path))
    open_vault(team_api=spec.prefect.api_url)  # Secret blocks only on the customer's server
    return spec


def load_customer(
    spec_path: Path | str, users_csv: Path | None = None, *, require_valid_users: bool = True
) -> Customer:
    """Parse the spec and check the user list once; keep the passwords in the run's vault.

    ``spec_path`` is the spec file or the customer's slug under the customers root.

    With ``require_valid_users`` (every flow but ``validate-users``), a list with problems
    raises :class:`~validation.users.UserListInvalidError` naming the file.
    """
    spec = load_spec(resolve_spec_path(spec_path))
    for warning in spec.warnings:  # allow_plaintext, tls_verify false: in every run's log
        _run_logger().warning("%s: %s", spec.spec_path, warning)
    report, credentials = load_user_list(spec, users_csv)
    if require_valid_users:
        require_valid(report)
    # Another file's passwords (``validate --users other.csv``) are not this customer's.
    open_vault(
        credentials if report.valid and users_csv is None else None,
        team_api=spec.prefect.api_url,
    )
    return Customer(spec, report)
