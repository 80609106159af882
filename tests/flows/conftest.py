"""Fixtures the flow tests share: customers for the migration tests, and a real Prefect
server with workers for the tests that need one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_URL, temporary_settings
from support.migrate_customer import Customer, CustomerFor, make_customer
from support.prefect_cluster import PrefectCluster, prefect_cluster

from lab import Lab, LabUser, LabUsers
from lab.postgres import PostgresServer


@pytest.fixture
def customer_for(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch
) -> CustomerFor:
    """``customer_for(users, **options)``: :func:`make_customer` in this test's folder, lab,
    user domain and environment (the secret's variable is unset when the test ends)."""

    def make(users: tuple[LabUser, ...], **options: Any) -> Customer:
        return make_customer(tmp_path, lab, users, lab_users.domain, monkeypatch, **options)

    return make


@pytest.fixture(scope="module")
def cluster(pg: PostgresServer) -> Iterator[PrefectCluster]:
    """``prefect server start`` on the lab's PostgreSQL with every service, the process pool,
    the deployments, the automations (notifying the cluster's ops inbox) and two workers;
    the test's Prefect client talks to it while a test uses it.

    One per test module: a module may kill a worker (test_workers does), and the server and
    its workers are gone before the next module, so no test depends on which ran before it.
    """
    root = Path(tempfile.mkdtemp(prefix="mrprefect-"))
    try:
        with prefect_cluster(root, pg) as running:
            with temporary_settings({PREFECT_API_URL: running.api_url}):
                running.setup_automations()
            running.start_worker("worker-a", limit=3)
            running.start_worker("worker-b", limit=3)
            yield running
    finally:
        if os.environ.get("ONBOARD_KEEP_LAB"):  # keep the server's and workers' logs
            print(f"\nprefect cluster kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def on_cluster(cluster: PrefectCluster) -> Iterator[PrefectCluster]:
    """The test's Prefect client (and flows it runs in-process) use the cluster's server.

    Prefect's events worker is one per process and keeps the API it was started with: it is
    drained while the cluster still runs, so the next test's events go to the session's own
    server, not to a cluster that is gone (which made the session's end wait for ever).
    """
    with temporary_settings({PREFECT_API_URL: cluster.api_url}):
        try:
            yield cluster
        finally:
            for worker in (EventsWorker, APILogWorker):
                drained = worker.drain_all(timeout=30)
                assert isinstance(drained, tuple) and not drained[1], f"{worker.__name__} hung"
