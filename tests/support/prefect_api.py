"""Reading what flow runs left in the test session's Prefect API (artifacts, logs, parameters)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
)


def latest_artifact(key: str) -> Any:
    """Return the newest artifact with ``key``; fail the test when there is none."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort="CREATED_DESC",
            limit=1,
        )
    assert found, f"no artifact {key}"
    return found[0]


def flow_run_texts(run_id: UUID) -> list[str]:
    """Return what a flow run and its subflow runs left in the API, for secret scans.

    Per run: its parameters (JSON), every log message, and every artifact (JSON).
    """
    texts: list[str] = []
    with get_client(sync_client=True) as client:
        runs = [client.read_flow_run(run_id)]
        runs += client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run_id])
            )
        )
        for run in runs:
            texts.append(json.dumps(run.parameters, default=str))
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
            )
            texts += [entry.message for entry in logs]
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            texts += [json.dumps(a.model_dump(mode="json")) for a in artifacts]
    return texts
