"""Run one flow on the customer's spec: the body every spec-and-options command shares.

``run_spec_flow(spec, out, VerifyResult, "flows.verify:verify", followup=True)`` loads the
spec first (unusable input exits 2 with its sentence before Prefect starts), then imports the
flow module *inside* :func:`cli.prefect_runtime.run_flow` and calls the flow with
``spec_path`` and the given parameters, returning its typed result.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cli.output import Output

if TYPE_CHECKING:
    from flows.results import FlowResult

__all__ = ["flow_call", "run_spec_flow"]

R = TypeVar("R", bound="FlowResult")


def run_spec_flow(spec: Path, out: Output, result_type: type[R], flow: str, **parameters: Any) -> R:
    """Load ``spec``, run the flow ``flow`` (``"module:function"``) on it, return its result."""
    from cli.prefect_runtime import run_flow

    out.load_spec(spec)
    return run_flow(flow_call(spec, flow, **parameters), out, result_type)


def flow_call(spec: Path, flow: str, **parameters: Any) -> Callable[[], Any]:
    """A call of the flow ``flow`` (``"module:function"``) on ``spec`` returning its state; the
    flow's module is imported only when it is called, inside the Prefect runtime."""
    module, name = flow.split(":")

    def start() -> Any:
        function = getattr(importlib.import_module(module), name)
        return function(spec_path=spec.resolve(), return_state=True, **parameters)

    return start
