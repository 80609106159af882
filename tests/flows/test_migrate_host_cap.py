"""I10, per-host connection cap enforced (not just created): with
``connections_per_source_host: 1`` and two mailboxes allowed in parallel, the two engine syncs
never overlap; the engine's own progress ticks (published on ``BOARD``) give the intervals."""

from __future__ import annotations

import csv
import secrets
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.faultproxy import FaultProxy
from support.mail import connect, fill

from flows.migrate import migrate
from lab import Lab, LabUsers
from tasks.migrate import BOARD

pytestmark = pytest.mark.usefixtures("prefect_server")


def _spec(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, n_users: int, source_port: int, **migration: Any
) -> Path:
    slug = "t-" + secrets.token_hex(4)
    secret = f"{slug}-src-master"
    with (tmp_path / "users.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["email", "password"])
        for i in range(n_users):
            u = lab_users.new()
            with connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as c:
                fill(c, {"INBOX": 30, "Archive": 20, "Sent": 10}, seed=i)
            writer.writerow([u.email, u.destination_password])
    spec = {
        "customer": f"Test {slug}",
        "slug": slug,
        "reseller": "Lab",
        "domains": [{"name": lab_users.domain, "mail_servers": [{"host": "127.0.0.1"}]}],
        "users_csv": "users.csv",
        "password_policy": {
            "min_length": 4,
            "min_character_classes": 1,
            "forbid_local_part": False,
            "forbid_common": False,
        },
        "migration": {
            "enabled": True,
            "source": {
                "host": "127.0.0.1",
                "port": source_port,
                "tls": "none",
                "auth": {
                    "mode": "master",
                    "master_user": lab.source.master_user,
                    "password_secret": secret,
                },
            },
            **migration,
        },
        "hosted": {
            "imap_host": "127.0.0.1",
            "imap_port": lab.ports.destination_imap,
            "imap_tls": "none",
        },
        "output_dir": str(tmp_path / "runs"),
    }
    path = tmp_path / "customer.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _intervals(spec: Path) -> dict[str, tuple[float, float]]:
    """Run the flow; per mailbox, the monotonic times of its first and last progress tick."""
    ticks: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def listener(event: Any) -> None:
        mailbox = getattr(event, "mailbox", None)
        if isinstance(mailbox, str):
            with lock:
                ticks[mailbox].append(time.monotonic())

    BOARD.subscribe(listener)
    try:
        state = migrate(spec_path=spec, return_state=True)
    finally:
        BOARD.unsubscribe(listener)
    data = state.result(raise_on_failure=False)
    assert state.is_completed(), data
    assert data["totals"]["copied"] == 60 * len(ticks), data["totals"]
    return {m: (min(t), max(t)) for m, t in ticks.items()}


def test_one_connection_per_source_host_serialises_parallel_mailboxes(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the concurrency slots these two syncs overlap (checked by replacing
    ``tasks.migrate.concurrency`` with a null context); with a cap of 1 they take turns."""
    # 15 ms each way on the source: each sync takes ~0.3 s, long enough to overlap.
    with FaultProxy(("127.0.0.1", lab.ports.source_imap)) as proxy:
        proxy.set_latency(upstream=0.015, downstream=0.015)
        spec = _spec(
            tmp_path,
            lab,
            lab_users,
            2,
            proxy.port,
            parallel_mailboxes=2,
            connections_per_source_host=1,
        )
        slug = yaml.safe_load(spec.read_text())["slug"]
        monkeypatch.setenv(
            "ONBOARD_SECRET_" + f"{slug}-src-master".upper().replace("-", "_"),
            lab.source.master_password,
        )
        spans = _intervals(spec)
    assert len(spans) == 2
    (_, first_end), (second_start, _) = sorted(spans.values())
    assert first_end < second_start, f"the two syncs overlapped: {spans}"
