"""Issue 11, "a big customer across workers", on a real Prefect server backed by the lab's
PostgreSQL with two process workers (``support.prefect_cluster``): the deployments are deployed
from this checkout, the secrets are Secret blocks on that server, the sync state is a Postgres
database shared by every worker, and the per-host cap is measured from the source Dovecot's log.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from support.mail import connect, digests, fill, snapshot
from support.migrate_customer import Customer, make_customer
from support.prefect_cluster import PrefectCluster, Worker

from lab import Lab, LabUser, LabUsers
from lab.postgres import PostgresServer

CAP = 3  # connections_per_source_host of both customers
# How long a run may take before the test calls it stuck: a liveness bound, not a speed claim
# (the migration took 353 s at load 8; CI may run it on a busier machine).
_RUN_TIMEOUT_S = 900.0


def _customer(
    tmp: Path,
    lab: Lab,
    users: tuple[LabUser, ...],
    domain: str,
    monkeypatch: pytest.MonkeyPatch,
    state_url: str,
    **migration: Any,
) -> Customer:
    """A lab customer whose source password is a Secret block on the cluster's server."""
    tmp.mkdir()
    customer = make_customer(
        tmp,
        lab,
        users,
        domain,
        monkeypatch,
        connections_per_source_host=CAP,
        parallel_mailboxes=4,
        state_url=state_url,
        **migration,
    )
    Secret(value=customer.master_password).save(f"{customer.slug}-src-master", overwrite=True)
    return customer


def _filled(lab: Lab, lab_users: LabUsers, count: int, seed: int) -> tuple[LabUser, ...]:
    users = tuple(lab_users.new() for _ in range(count))

    def one(i: int) -> None:
        u = users[i]
        with connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as c:
            fill(c, {"INBOX": 3 + i % 3, "Archive": 2}, seed=seed + i)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(count)))
    return users


def _wait_final(run_id: UUID, timeout: float = _RUN_TIMEOUT_S) -> FlowRun:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            if run.state is not None and run.state.is_final():
                return run
            assert time.monotonic() < deadline, f"run {run.name} still {run.state}"
            time.sleep(0.5)


def _batches(client: Any, parent: UUID) -> list[FlowRun]:
    return cast(
        list[FlowRun],
        client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent])
            )
        ),
    )


def _progress(client: Any, key: str) -> float:
    found = client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
        sort="CREATED_DESC",
        limit=1,
    )
    return float(found[0].data) if found else 0.0


def _kill_mid_batch(cluster: PrefectCluster, parent: UUID, slug: str) -> Worker:
    """Wait until a worker that does not run ``parent`` is half-way through a batch; kill it."""
    deadline = time.monotonic() + _RUN_TIMEOUT_S
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            for worker in cluster.workers:
                mine = worker.submitted()
                if str(parent) in mine:
                    continue
                for child in _batches(client, parent):
                    if str(child.id) not in mine or not (child.state and child.state.is_running()):
                        continue
                    batch = child.parameters["batch"]
                    done = _progress(client, f"migration-progress-{slug}-batch-{batch}")
                    if 0 < done < 100:
                        worker.kill()
                        return worker
            time.sleep(0.2)
    raise AssertionError("no batch ran on the worker without the parent run")


_LOGIN = re.compile(r"imap-login: Info: Login: user=<([^>]*)>.*session=<([^>]+)>")
_END = re.compile(r"imap\(([^)]*)\)<\d+><([^>]+)>: Info: (?:Logged out|Disconnected)")


def _peak_sessions(log: str) -> tuple[int, Counter[str]]:
    """The most IMAP sessions open at once on the source, and per user, in log order."""
    open_now: dict[str, str] = {}
    peak = 0
    per_user: Counter[str] = Counter()
    peaks: Counter[str] = Counter()
    for line in log.splitlines():
        if m := _LOGIN.search(line):
            user = m.group(1).split("*", 1)[0]
            open_now[m.group(2)] = user
            per_user[user] += 1
            peaks[user] = max(peaks[user], per_user[user])
            peak = max(peak, len(open_now))
        elif (m := _END.search(line)) and m.group(2) in open_now:
            per_user[open_now.pop(m.group(2))] -= 1
    return peak, peaks


def test_a_big_customer_spreads_over_two_workers_and_survives_one_dying(
    on_cluster: PrefectCluster,
    pg: PostgresServer,
    lab: Lab,
    lab_users: LabUsers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """100 mailboxes in 4 batches run on both workers while a small customer migrates at the
    same time; one worker is killed mid-batch, its batch re-runs on the other, and every
    message is on the hosted side exactly once (bytes, flags, date) with the source never
    serving more than the per-host cap of sessions, nor two at once for one mailbox."""
    pg.create_database("state_workers")
    state = pg.url("state_workers")
    big_users = _filled(lab, lab_users, 100, seed=0)
    small_users = _filled(lab, lab_users, 6, seed=500)
    big = _customer(
        tmp_path / "big",
        lab,
        big_users,
        lab_users.domain,
        monkeypatch,
        state,
        batch_size=25,
        # ~10 s per batch on an idle machine, so a worker can be killed half-way through one
        source={"host_max_messages_per_second": 15},
    )
    small = _customer(tmp_path / "small", lab, small_users, lab_users.domain, monkeypatch, state)
    log_start = lab.source.log.stat().st_size

    started = time.monotonic()
    runs = {
        c.slug: cast(
            FlowRun,
            run_deployment("migrate/initial", parameters={"spec_path": str(c.spec)}, timeout=0),
        ).id
        for c in (big, small)
    }
    killed = _kill_mid_batch(on_cluster, runs[big.slug], big.slug)
    finished = {slug: _wait_final(run_id) for slug, run_id in runs.items()}
    migration_seconds = time.monotonic() - started
    log = lab.source.log.read_bytes()[log_start:].decode(errors="replace")

    for slug, run in finished.items():
        assert run.state is not None and run.state.is_completed(), (slug, run.state)
    (report_file,) = big.customer_dir.glob("*-migrate/report.json")
    totals = json.loads(report_file.read_text())["totals"]
    assert totals["in_scope"] == sum(3 + i % 3 + 2 for i in range(100)), totals
    assert totals["failed"] == totals["skipped"] == 0, totals
    # What the dead worker had copied is found again, never copied twice.
    assert totals["copied"] + totals["already_present"] == totals["in_scope"], totals
    with get_client(sync_client=True) as client:
        children = _batches(client, runs[big.slug])
    by_batch: dict[int, list[FlowRun]] = defaultdict(list)
    for child in sorted(children, key=lambda c: c.created or 0):
        by_batch[child.parameters["batch"]].append(child)
    assert sorted(by_batch) == [1, 2, 3, 4]
    assert [len(r[0].parameters["users"]) for _, r in sorted(by_batch.items())] == [25] * 4
    assert all(r[-1].state and r[-1].state.is_completed() for r in by_batch.values())
    crashed = {str(c.id) for c in children if c.state and c.state.is_crashed()}
    ran_on = {w.name: {str(c.id) for c in children} & w.submitted() for w in on_cluster.workers}
    assert all(ran_on.values()), f"batches per worker: {ran_on}"
    # Every batch the dead worker had started crashed and ran again; nothing else did.
    assert crashed and crashed <= ran_on[killed.name], (crashed, ran_on)
    assert len(children) == 4 + len(crashed)
    peak, per_user = _peak_sessions(log)
    assert 0 < peak <= CAP, f"source served {peak} sessions at once (cap {CAP})"
    assert max(per_user.values()) == 1, per_user.most_common(3)
    for u in big_users + small_users:
        with (
            connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as src,
            connect(
                "127.0.0.1", lab.ports.destination_imap, u.email, u.destination_password
            ) as dst,
        ):
            assert digests(snapshot(dst)) == digests(snapshot(src)), u.email
    print(
        f"\nbatches per worker: { {w: len(ids) for w, ids in ran_on.items()} }, "
        f"{len(crashed)} crashed on {killed.name} and ran again; peak {peak}/{CAP} source "
        f"sessions; both customers migrated in {migration_seconds:.0f} s"
    )
