"""Flow-run names that say customer and phase (``acme-corp · migrate initial``), not
Prefect's random ``brave-fox``: each flow's ``flow_run_name`` is :func:`run_name`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect.runtime import flow_run

from tasks.customers_root import slug_of

__all__ = ["run_name"]


def run_name(phase: str | Callable[[dict[str, Any]], str]) -> Callable[[], str]:
    """A ``flow_run_name`` callable: the customer's slug, then ``phase`` (a
    ``str.format`` template over the run's parameters, or a function of them).

    Example: ``run_name("migrate {pass_kind}")`` names a run ``acme · migrate initial``.
    """

    def name() -> str:
        params: dict[str, Any] = dict(flow_run.parameters or {})
        what = phase(params) if callable(phase) else phase.format(**params)
        return f"{slug_of(params.get('spec_path', 'customer'))} · {what}"

    return name
