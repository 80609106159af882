"""The Prefect automations an ops team needs so nothing is missed, set up by ``python -m
deployments --automations``.

Four automations, each replaced (same name) when set up again:

- **approval**: a flow run of the pipeline paused (or suspended) for an operator: approve the
  cutover, confirm the customer's DNS change, approve failed items. The notice names the run
  and the customer (its ``spec_path`` parameter: ``<customers root>/<slug>/customer.yaml``).
- **failed**: a ``migrate``, ``cutover`` or ``onboard`` run ended Failed or Crashed.
- **follow-up**: a ``verify`` run with ``followup`` found open issues (it ends Failed,
  ``OpenIssues``).
- **zombies**: a flow run whose heartbeats stopped (its worker or machine died) is marked
  ``Crashed`` (docs/v3/advanced/detect-zombie-flows), so the parent ``migrate`` of a batch
  run starts that batch again on another worker. Workers must emit heartbeats:
  ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` (at least 30 s) below ``zombie_after``.

The target is any Prefect notification block (``<block-type-slug>/<name>``: Slack, Teams,
``custom-webhook``, ...). The server's triggers and actions services send them, so the
notices come from a real ``prefect server start``, never from a temporary server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect.automations import Automation
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState, SendNotification
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.exceptions import ObjectNotFound

__all__ = [
    "PREFIX",
    "AutomationSet",
    "automations",
    "install",
    "notification_block_id",
    "save_webhook_block",
]

PREFIX = "onboarding:"
_ANY_FLOW_RUN = {"prefect.resource.id": "prefect.flow-run.*"}
_FAILED_FLOWS = ["migrate", "cutover", "onboard"]
_PIPELINE = [
    "validate-users",
    "provision",
    "preflight",
    "migrate",
    "dns-plan",
    "client-guides",
    "dns-check",
    "cutover",
    "verify",
    "onboard",
]

_WHO = (
    "{{ flow.name }} run '{{ flow_run.name }}' for the customer "
    "{{ flow_run.parameters.get('spec_path', '?') }}"
)
_LINK = (
    "\n\nFlow run {{ flow_run.id }}{% if flow_run|ui_url %}: {{ flow_run|ui_url }}{% endif %}"
    "\nState: {{ flow_run.state.name }}: {{ flow_run.state.message }}"
)


@dataclass(frozen=True)
class AutomationSet:
    """What :func:`install` did: the automations' names, in order."""

    names: tuple[str, ...]


def _flows(names: list[str]) -> ResourceSpecification:
    return ResourceSpecification({"prefect.resource.role": "flow", "prefect.resource.name": names})


def _notice(
    block_id: UUID,
    name: str,
    description: str,
    trigger: tuple[set[str], dict[str, Any], ResourceSpecification | list[ResourceSpecification]],
    message: tuple[str, str],
) -> Automation:
    """A reactive automation: when ``trigger`` (expect, match, match_related) fires, notify
    ``block_id`` with ``message`` (subject, body; the body gets the run's link and state)."""
    expect, match, related = trigger
    subject, body = message
    return Automation(
        name=f"{PREFIX} {name}",
        description=description,
        trigger=EventTrigger(
            expect=expect,
            match=ResourceSpecification(_ANY_FLOW_RUN | match),
            match_related=related,
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[SendNotification(block_document_id=block_id, subject=subject, body=body + _LINK)],
    )


def automations(block_id: UUID, *, zombie_after: timedelta) -> list[Automation]:
    """The four automations, notifying the notification block ``block_id``."""
    ended = {"prefect.flow-run.*"}
    return [
        _notice(
            block_id,
            "approval needed",
            "A pipeline run paused for an operator: approve or answer in the UI.",
            ({"prefect.flow-run.Paused", "prefect.flow-run.Suspended"}, {}, _flows(_PIPELINE)),
            (
                "Onboarding: approval needed: {{ flow_run.name }}",
                _WHO + " waits for an operator: Resume it in the Prefect UI.",
            ),
        ),
        _notice(
            block_id,
            "migrate or cutover failed",
            "A migrate, cutover or onboard run ended Failed or Crashed.",
            (ended, {"prefect.state-type": ["FAILED", "CRASHED"]}, _flows(_FAILED_FLOWS)),
            (
                "Onboarding: {{ flow.name }} failed: {{ flow_run.name }}",
                _WHO + " ended {{ flow_run.state.name }}; its artifacts say what to fix.",
            ),
        ),
        _notice(
            block_id,
            "follow-up found open issues",
            "The verification after the cutover (verify, followup) found issues.",
            (
                ended,
                {"prefect.state-type": "FAILED"},
                [_flows(["verify"]), ResourceSpecification(_FOLLOW_UP)],
            ),
            (
                "Onboarding: follow-up found open issues: {{ flow_run.name }}",
                _WHO + " found open issues; see its onboarding report.",
            ),
        ),
        Automation(
            name=f"{PREFIX} crash flow runs whose heartbeats stopped",
            description="A run whose worker died is marked Crashed (a migrate batch re-runs).",
            trigger=EventTrigger(
                after={"prefect.flow-run.heartbeat"},
                expect={
                    "prefect.flow-run.heartbeat",
                    "prefect.flow-run.Completed",
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled",
                    "prefect.flow-run.Crashed",
                },
                match=ResourceSpecification(_ANY_FLOW_RUN),
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=zombie_after,
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CRASHED,
                    message=f"no heartbeat for {zombie_after.total_seconds():g} s: its "
                    "worker or machine stopped",
                )
            ],
        ),
    ]


# The follow-up deployment's tag (prefect.yaml): only the re-check after the cutover counts.
_FOLLOW_UP = {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.follow-up"}


def notification_block_id(ref: str) -> UUID:
    """The id of the notification block ``<block-type-slug>/<name>``; a LookupError if none."""
    slug, _, name = ref.partition("/")
    if not slug or not name:
        raise LookupError(
            f"--notify-block {ref!r}: give <block-type-slug>/<name>, e.g. custom-webhook/ops"
        )
    with get_client(sync_client=True) as client:
        try:
            return client.read_block_document_by_name(name, slug, include_secrets=False).id
        except ObjectNotFound:
            raise LookupError(
                f"no notification block {ref!r} on {client.api_url}: create it in the Prefect "
                "UI (Blocks) or pass --notify-webhook URL"
            ) from None


def save_webhook_block(name: str, url: str) -> str:
    """Create (or update) the ``custom-webhook/<name>`` block posting JSON to ``url``."""
    CustomWebhookNotificationBlock(
        name=name,
        url=url,
        method="POST",
        json_data={"subject": "{{subject}}", "body": "{{body}}", "source": "{{name}}"},
    ).save(name, overwrite=True)
    return f"custom-webhook/{name}"


def install(block_ref: str, *, zombie_after: timedelta) -> AutomationSet:
    """Create the automations notifying ``block_ref``, replacing any of the same name."""
    block_id = notification_block_id(block_ref)
    names = []
    with get_client(sync_client=True) as client:
        for automation in automations(block_id, zombie_after=zombie_after):
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            automation.create()
            names.append(automation.name)
    return AutomationSet(tuple(names))
