"""I10, per-host connection cap enforced (not just created): with
``connections_per_source_host: 1`` and two mailboxes allowed in parallel, the two engine syncs
never overlap; the engine's own progress ticks (heard through ``watch_progress``) give the
intervals."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from support.faultproxy import FaultProxy
from support.flow_result import result_json
from support.lab_mailbox import fill_source
from support.migrate_customer import CustomerFor

from flows.migrate import migrate, watch_progress
from lab import Lab, LabUsers
from onboarding.mailsync import SyncProgress

pytestmark = pytest.mark.usefixtures("prefect_server")


def _intervals(spec: Path) -> dict[str, tuple[float, float]]:
    """Run the flow; per mailbox, the monotonic times of its first and last progress tick."""
    ticks: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def listener(event: Any) -> None:
        # Only the engine's ticks: MailboxDone comes from the flow thread after an HTTP call,
        # outside the sync that holds the connection slot.
        if isinstance(event, SyncProgress):
            with lock:
                ticks[event.mailbox].append(time.monotonic())

    with watch_progress(listener):
        state = migrate(spec_path=spec, return_state=True)
    data = result_json(state)
    assert state.is_completed(), data
    assert data["totals"]["copied"] == 60 * len(ticks), data["totals"]
    return {m: (min(t), max(t)) for m, t in ticks.items()}


def test_one_connection_per_source_host_serialises_parallel_mailboxes(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """Without the concurrency slots these two syncs overlap (checked by replacing
    ``tasks.migrate.concurrency`` with a null context); with a cap of 1 they take turns."""
    # 15 ms each way on the source: each sync takes ~0.3 s, long enough to overlap.
    with FaultProxy(("127.0.0.1", lab.ports.source_imap)) as proxy:
        proxy.set_latency(upstream=0.015, downstream=0.015)
        users = tuple(lab_users.new() for _ in range(2))
        for i, u in enumerate(users):
            fill_source(lab, u, {"INBOX": 30, "Archive": 20, "Sent": 10}, seed=i)
        customer = customer_for(
            users,
            source_port=proxy.port,
            parallel_mailboxes=2,
            connections_per_source_host=1,
        )
        spans = _intervals(customer.spec)
    assert len(spans) == 2
    (_, first_end), (second_start, _) = sorted(spans.values())
    assert first_end < second_start, f"the two syncs overlapped: {spans}"
