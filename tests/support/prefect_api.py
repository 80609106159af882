"""Reading what flow runs published from the test session's Prefect API."""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey


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
