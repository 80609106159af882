"""The whole runbook for one customer: each phase's flow in order, pausing where a human acts.

``onboard run SPEC`` (or the ``onboard/whole-runbook`` deployment) chains: validate the user list →
provision (customer, domains, routing, mailboxes) → preflight of every user and initial mail
sync (when migration is enabled; a user who fails preflight stops the run before any mail
is copied) → DNS plan (the records for the customer) → client guides (set-up guide, user
sheets, autoconfig files to publish) → **pause** until an operator confirms the
customer changed DNS (skipped with ``approved``) → cutover (approved by the same flag) →
verification. It stops at the first phase that does not complete, and completes only if every
phase did.

One ``onboard`` per customer at a time (``customer-<slug>-onboard``, refused at once naming
the holder); its migrate and cutover take the customer's own slots, so a second migrate or
cutover of the same customer meanwhile is refused too (:mod:`tasks.customer_lock`).

Re-running is safe: every phase does only missing work. Once a cutover has started (a domain
is held or routed to the hosted mailboxes) the set-up phases are skipped and the run goes
straight to the cutover, which finishes or re-checks: a crashed cutover must not wait behind
a sync or a DNS plan. Users added to the list after the cutover are created by
``onboard provision``, which accepts the hosted routing. The long waits (initial sync, the
customer's DNS change) are the operator's: this flow never sleeps for hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import State

from flows.client_guides import client_guides
from flows.customer_runs import one_at_a_time
from flows.cutover import cutover
from flows.dns_plan import dns_plan
from flows.migrate import migrate
from flows.preflight import preflight
from flows.provision import provision
from flows.results import OnboardResult, PhaseRow, end
from flows.run_names import run_name
from flows.validate_users import validate_users
from flows.verify import verify
from tasks.customer import read_spec
from tasks.cutover import ask_dns_changed, cutover_started
from tasks.dns import records_key
from validation.spec import OnboardingSpec

__all__ = ["onboard"]

Step = tuple[str, Callable[[], State[Any]] | None, str]
"""A phase: its name, what runs its flow (None: it is skipped) and why it stops or skips."""


class _Phases:
    """The record of each phase: its name, how it ended and its message."""

    def __init__(self) -> None:
        self.rows: list[PhaseRow] = []

    def ran(self, phase: str, state: State[Any]) -> bool:
        """Record a finished phase; True when it completed."""
        self.rows.append(PhaseRow(phase=phase, state=state.name, message=state.message or ""))
        return state.is_completed()

    def note(self, phase: str, state: str, message: str) -> None:
        self.rows.append(PhaseRow(phase=phase, state=state, message=message))

    def skip(self, phase: str, reason: str) -> None:
        self.note(phase, "Skipped", reason)

    def stopped(self, why: str) -> State[Any]:
        last = self.rows[-1].phase if self.rows else "start"
        message = f"stopped at {last}: {why}"
        get_run_logger().error(message)
        return end(OnboardResult(ok=False, message=message, completed=False, phases=self.rows))

    def run(self, steps: Iterable[Step]) -> State[Any] | None:
        """Run the steps' flows in order (a step without one is recorded as skipped, its
        message the reason); the stopped end at the first that does not complete, else None."""
        for phase, start, why in steps:
            if start is None:
                self.skip(phase, why)
                continue
            state = start()
            if not self.ran(phase, state):
                return self.stopped(state.message or why)
        return None

    def done(self) -> State[Any]:
        ran = [r.phase for r in self.rows if r.state != "Skipped"]
        message = "onboarded: " + ", ".join(ran)
        return end(OnboardResult(ok=True, message=message, completed=True, phases=self.rows))


@flow(name="onboard", flow_run_name=run_name("onboard"), log_prints=False)
def onboard(spec_path: Path, approved: bool = False, dns_wait_seconds: float = 900.0) -> State[Any]:
    """Run every phase for the customer in ``spec_path``; see the module docstring.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
        approved: The operator confirms the DNS change and approves the cutover up front.
        dns_wait_seconds: How long the cutover keeps checking DNS readiness before refusing.
    """
    spec = read_spec(spec_path)
    return one_at_a_time(  # its phases take their own slots as they go
        spec, "onboard", lambda: _onboard(spec, spec_path, approved, dns_wait_seconds)
    )


def _onboard(
    spec: OnboardingSpec, spec_path: Path, approved: bool, dns_wait_seconds: float
) -> State[Any]:
    run: dict[str, Any] = {"spec_path": spec_path, "return_state": True}
    phases = _Phases()
    if cutover_started(spec):
        phases.skip(
            "validate-users, provision, preflight, migrate, dns-plan, client-guides",
            "the cutover has started (users added since: `onboard provision`)",
        )
    else:
        setup: list[Step] = [
            ("validate-users", partial(validate_users, **run), "the user list has problems"),
            ("provision", partial(provision, **run), "provisioning failed"),
        ]
        if spec.migration.enabled:
            setup += [
                ("preflight", partial(preflight, **run), "preflight found users that cannot move"),
                (
                    "migrate",
                    partial(migrate, **run, pass_kind="initial"),
                    "the initial sync failed",
                ),
            ]
        else:
            setup.append(("preflight, migrate", None, "migration is not enabled in the spec"))
        setup += [
            ("dns-plan", partial(dns_plan, **run), "the DNS plan failed"),
            (
                "client-guides",
                partial(client_guides, **run),
                "the client guides could not be written",
            ),
        ]
        stopped = phases.run(setup)
        if stopped is not None:
            return stopped
        if approved:
            phases.skip("confirm-dns-change", "confirmed up front (approved)")
        else:
            answer = ask_dns_changed(spec, records_key(spec))
            phases.note("confirm-dns-change", "Confirmed", answer.notes)
            if not answer.yes:
                return phases.stopped("the operator says the customer has not changed DNS yet")
    cutover_now = partial(cutover, **run, approved=approved, wait_seconds=dns_wait_seconds)
    finish: list[Step] = [
        ("cutover", cutover_now, "the cutover did not complete"),
        ("verify", partial(verify, **run), "verification found open issues"),
    ]
    stopped = phases.run(finish)
    return phases.done() if stopped is None else stopped
