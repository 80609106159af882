"""Each customer's nightly incremental pass, scheduled by the flows themselves (issue 11).

After a customer's initial pass succeeds, ``migrate`` gives the ``migrate/nightly-incremental``
deployment a schedule of that customer's own (slug ``customer-<slug>-nightly``, parameters
``spec_path`` + ``pass_kind: incremental``); a later initial pass updates it in place. The
cutover removes it once the customer is cut over (the catch-up passes take over). Nobody
creates them by hand in the UI, and ``prefect deploy`` keeps them: prefect.yaml gives that
deployment ``schedules: null``, which a redeploy leaves alone (a list, even an empty one,
would replace every schedule).

Without that deployment on the server (a local run on a temporary server) nothing is
scheduled and the result says how to run the pass instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import CronSchedule
from prefect.exceptions import ObjectNotFound

from validation.spec import OnboardingSpec

__all__ = ["NIGHTLY_CRON", "NIGHTLY_DEPLOYMENT", "remove_nightly", "schedule_nightly", "slug_for"]

NIGHTLY_DEPLOYMENT = "migrate/nightly-incremental"
NIGHTLY_CRON = "0 2 * * *"  # 02:00 UTC
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def slug_for(spec: OnboardingSpec) -> str:
    """The schedule's slug on the nightly deployment: ``customer-<slug>-nightly``."""
    return f"customer-{spec.customer_slug}-nightly"


def _customer_ref(spec: OnboardingSpec, spec_path: Path | str) -> str:
    """What the scheduled run is given: the slug as the run was (a UI run under the
    customers root), else the spec file's absolute path."""
    text = str(spec_path)
    if _SLUG.match(text):
        return text
    return str(Path(spec.spec_path or spec_path).resolve())


@task(name="schedule-nightly-incremental", persist_result=False, cache_policy=NO_CACHE)
def schedule_nightly(spec: OnboardingSpec, spec_path: Path | str) -> str:
    """Create or update the customer's nightly schedule; return what was done (one line)."""
    params = {"spec_path": _customer_ref(spec, spec_path), "pass_kind": "incremental"}
    slug = slug_for(spec)
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(NIGHTLY_DEPLOYMENT)
        except ObjectNotFound:
            return (
                f"no {NIGHTLY_DEPLOYMENT} deployment on this server: nothing scheduled; run "
                f"`onboard migrate {spec.spec_path} --pass incremental` nightly until the cutover"
            )
        cron = CronSchedule(cron=NIGHTLY_CRON, timezone="UTC")
        mine = [s for s in client.read_deployment_schedules(deployment.id) if s.slug == slug]
        if mine:
            client.update_deployment_schedule(
                deployment.id, mine[0].id, active=True, schedule=cron, parameters=params
            )
            done = "updated"
        else:
            create = DeploymentScheduleCreate(
                schedule=cron, active=True, parameters=params, slug=slug
            )
            client.create_deployment_schedules(deployment.id, [create])
            done = "created"
    message = f"nightly incremental pass {done}: {NIGHTLY_DEPLOYMENT} schedule {slug} (02:00 UTC)"
    get_run_logger().info("%s", message)
    return message


@task(name="remove-nightly-incremental", persist_result=False, cache_policy=NO_CACHE)
def remove_nightly(spec: OnboardingSpec) -> bool:
    """Delete the customer's nightly schedule (cut over: no more passes); True if one was."""
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(NIGHTLY_DEPLOYMENT)
        except ObjectNotFound:
            return False
        mine = [
            s for s in client.read_deployment_schedules(deployment.id) if s.slug == slug_for(spec)
        ]
        for schedule in mine:
            client.delete_deployment_schedule(deployment.id, schedule.id)
    return bool(mine)
