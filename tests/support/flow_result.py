"""Reading a flow run's typed result the way ``--format json`` prints it."""

from __future__ import annotations

from typing import Any

from flows.results import FlowResult, result_of


def result_json(state: Any) -> dict[str, Any]:
    """The JSON of the flow result ``state`` carries; fail the test when it carries none."""
    data = result_of(state)
    assert isinstance(data, FlowResult), f"flow did not report: {data!r}"
    return data.to_json()
