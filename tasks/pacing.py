"""The source hosts' shared rate buckets, one set per flow run and process (issue 10).

Every mailbox task reading from one source host must take from the same bucket, so the host's
``host_max_*`` rates hold over all of them. Like the vault (:mod:`tasks.vault`) the buckets live
in a context variable that the flow sets before it submits its tasks; Prefect copies the
context into every task it runs in this process. A worker in another process has its own
buckets, so there the per-host rate holds per process (the connection cap, a Prefect global
concurrency limit, holds across all of them).
"""

from __future__ import annotations

from contextvars import ContextVar

from prefect.runtime import flow_run

from onboarding.mailsync.ratelimit import HostRates
from tasks.adapters import host_rate_limits
from validation.spec import OnboardingSpec

__all__ = ["run_host_rates"]

_RATES: ContextVar[tuple[str | None, HostRates] | None] = ContextVar(
    "onboarding_host_rates", default=None
)


def run_host_rates(spec: OnboardingSpec) -> HostRates:
    """This flow run's per-host buckets, made at the first call in the run (in the flow)."""
    run_id = flow_run.get_id()
    current = _RATES.get()
    if current is None or current[0] != run_id:
        current = (run_id, host_rate_limits(spec))
        _RATES.set(current)
    return current[1]
