"""Reading what flow runs left in the test session's Prefect API (artifacts, logs, parameters)
and in Prefect's own storage (result files, the database)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import sqlite3
from pathlib import Path
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
from prefect.settings import (
    PREFECT_HOME,
    PREFECT_LOCAL_STORAGE_PATH,
    PREFECT_SERVER_DATABASE_CONNECTION_URL,
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


_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{24,}={0,2}")


def _expanded(raw: bytes) -> str:
    """``raw`` as text, followed by every base64 run in it decoded (a result record keeps its
    pickled payload base64-encoded, and a pickled exception its message inside that)."""
    parts = [raw.decode("utf-8", "replace")]
    for run in _BASE64_RUN.findall(raw):
        try:
            decoded = base64.b64decode(run + b"=" * (-len(run) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        parts.append(decoded.decode("utf-8", "replace"))
    return "\n".join(parts)


def _database_file() -> Path | None:
    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or "")
    if not url.startswith("sqlite"):
        return None
    return Path(url.split(":///", 1)[1])


def folder_texts(*roots: Path) -> list[str]:
    """Every file below ``roots`` as text (UTF-8, undecodable bytes replaced), for secret
    scans; a file that cannot be read (gone, a socket) is passed over."""
    texts: list[str] = []
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                with contextlib.suppress(OSError):
                    texts.append((Path(folder) / name).read_bytes().decode("utf-8", "replace"))
    return texts


def prefect_stored_texts() -> list[str]:
    """Everything Prefect itself stored, for secret scans: each file under PREFECT_HOME and
    the local result storage (PREFECT_LOCAL_STORAGE_PATH, where a failed flow's exception is
    pickled whatever ``persist_result`` says), and every value of every table of the API's
    SQLite database; base64 payloads decoded."""
    texts: list[str] = []
    roots = {Path(PREFECT_HOME.value()), Path(PREFECT_LOCAL_STORAGE_PATH.value())}
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                with contextlib.suppress(OSError):
                    texts.append(_expanded((Path(folder) / name).read_bytes()))
    db = _database_file()
    assert db is not None and db.exists(), "the scan must see the Prefect database"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        texts.append(_expanded(value))
                    elif isinstance(value, str):
                        texts.append(_expanded(value.encode("utf-8", "surrogatepass")))
    return texts
