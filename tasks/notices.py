"""Tasks that mail the users: the notice before the cutover and the welcome after it.

Thin wrappers over :mod:`onboarding.notices`: the adapters build each user's notice (no
password in it), the sender's password comes from the run's vault, and the record of sent
notices lives next to the cutover ledger (``<output_dir>/<slug>/notices.jsonl``), so a re-run
sends nothing twice. No task persists a result or has a cache key.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from onboarding.notices import NoticeKind, NoticeLog, NoticeReport, send_notices
from onboarding.notices.record import FILE_NAME
from tasks.adapters import cutover_domains, notice_sender, notices_for, submission_endpoint
from tasks.vault import current_vault
from validation.spec import OnboardingSpec

__all__ = ["notice_log_path", "send_user_notices"]


def notice_log_path(spec: OnboardingSpec) -> Path:
    """``<output_dir>/<slug>/notices.jsonl``, beside the cutover ledger."""
    return Path(spec.output_dir) / spec.customer_slug / FILE_NAME


@task(name="send-user-notices", persist_result=False, cache_policy=NO_CACHE)
def send_user_notices(
    spec: OnboardingSpec, kind: NoticeKind, cutover_id: str, ready_at: datetime
) -> NoticeReport:
    """Send ``kind`` to every user who has not had it for ``cutover_id``.

    ``before_cutover`` goes to the users of the domains being cut over (a new domain's users
    have nothing to move); ``welcome`` goes to every user.
    """
    vault = current_vault()
    users = list(vault.credentials(spec).values())
    if kind == "before_cutover":
        moving = set(cutover_domains(spec))
        users = [u for u in users if u.email.rsplit("@", 1)[1].lower() in moving]
    report = send_notices(
        submission_endpoint(spec),
        notice_sender(spec, vault),
        kind,
        language=spec.notices.language,
        cutover_id=cutover_id,
        notices=notices_for(spec, users, ready_at=ready_at),
        log_book=NoticeLog(notice_log_path(spec)),
    )
    rows = [r.to_dict() for r in report.results if r.status != "already-sent"]
    if rows:
        create_table_artifact(
            rows,
            key=f"notices-{kind.replace('_', '-')}-{spec.customer_slug}",
            description=report.message,
        )
    get_run_logger().info("%s", report.message)
    return report
