"""Task of the ``verify`` flow: the customer's final report from the phases' run folders.

Reads the newest JSON report of each phase under ``<output_dir>/<slug>/`` (provision,
migrate, cutover, and this run's verification), renders the customer-facing report into the
verify run folder (``onboarding-report.md`` / ``.html`` / ``.pdf``) and publishes the
``onboarding-report-<slug>`` artifact. It reads no secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from onboarding.customer_report import customer_report
from onboarding.documents import render_html, render_markdown, render_pdf
from tasks.adapters import customer_report_sources
from validation.spec import OnboardingSpec

__all__ = ["REPORT_FILES", "publish_customer_report", "report_key"]

REPORT_FILES = ("onboarding-report.md", "onboarding-report.html", "onboarding-report.pdf")


def report_key(spec: OnboardingSpec) -> str:
    """The artifact key of the customer's report: ``onboarding-report-<customer-slug>``."""
    return f"onboarding-report-{spec.customer_slug}"


def _newest(spec: OnboardingSpec, flow: str, name: str) -> list[dict[str, Any]]:
    """Every ``<run folder of flow>/<name>`` of this customer, newest first, parsed."""
    base = Path(spec.output_dir) / spec.customer_slug
    found = []
    for path in sorted(base.glob(f"*-{flow}*/{name}"), reverse=True):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a run that crashed while writing; an older one still says something
    return found


@task(name="publish-customer-report", persist_result=False, cache_policy=NO_CACHE)
def publish_customer_report(spec: OnboardingSpec, verify_folder: Path) -> Path:
    """Write the report into ``verify_folder`` and publish it; return the Markdown's path."""
    verification = json.loads((verify_folder / "verification.json").read_text(encoding="utf-8"))
    cutovers = _newest(spec, "cutover", "cutover.json")
    with_followup = [c for c in cutovers if c.get("followup")]
    sources = customer_report_sources(
        spec,
        verify=verification,
        provision=next(iter(_newest(spec, "provision", "provisioning.json")), None),
        migrate=next(iter(_newest(spec, "migrate", "report.json")), None),
        cutover=next(iter(with_followup or cutovers), None),
    )
    doc = customer_report(sources)
    markdown, html = render_markdown(doc), render_html(doc)
    target = verify_folder / REPORT_FILES[0]
    target.write_text(markdown, encoding="utf-8")
    (verify_folder / REPORT_FILES[1]).write_text(html, encoding="utf-8")
    (verify_folder / REPORT_FILES[2]).write_bytes(render_pdf(html))
    create_markdown_artifact(
        markdown, key=report_key(spec), description=f"{spec.customer}: the customer's report"
    )
    get_run_logger().info("customer report %s in %s", report_key(spec), verify_folder)
    return target
