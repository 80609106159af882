"""One run per customer and phase: a flow's body runs holding the customer's slot, or the
run ends at once as ``CustomerBusy`` naming the run that holds it (:mod:`tasks.customer_lock`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect.states import State

from flows.results import CustomerBusyResult, end
from tasks.customer_lock import CustomerBusy, CustomerPhase, customer_slot
from validation.spec import OnboardingSpec

__all__ = ["one_at_a_time"]


def one_at_a_time(
    spec: OnboardingSpec, phase: CustomerPhase, body: Callable[[], State[Any]]
) -> State[Any]:
    """``body()`` holding ``spec``'s ``phase`` slot; Failed ``CustomerBusy`` if another run
    holds it (nothing done)."""
    try:
        with customer_slot(spec, phase):
            return body()
    except CustomerBusy as busy:
        return end(CustomerBusyResult.of(busy), name="CustomerBusy")
