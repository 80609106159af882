"""The state store on a real PostgreSQL (the production store, shared by workers).

The same contract test_state.py checks on SQLite: UIDVALIDITY-keyed rows (I9), intents then
confirmations, folder state across reopen, the per-pair lease (I10), concurrent opens of a
fresh database; plus one mailbox synced twice through the lab's Dovecots with state in Postgres.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.mail import connect, digests, fill, snapshot

from lab import Lab, LabUser, ServerStartError
from lab.postgres import PostgresServer
from onboarding.mailsync import (
    MailboxPair,
    StateError,
    StateLocked,
    StateStore,
    SyncOptions,
    SyncStatus,
    sync_mailbox,
)
from onboarding.mailsync.state import DONE, INTENT, FolderState, MessageRow

PAIR = "src:143/ann@x=>dst:143/ann@x"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    """One PostgreSQL for this module, on a free port in a temporary folder, stopped at the end."""
    state = Path(tempfile.mkdtemp(prefix="mrpg-"))
    state.chmod(0o755)  # the postgres user must reach the cluster below it
    server: PostgresServer | None = None
    try:
        for attempt in range(3):  # a free port can be taken between picking and binding
            server = PostgresServer(state / f"try{attempt}", _free_port())
            try:
                server.start()
                break
            except ServerStartError:
                server.stop()
                if attempt == 2:
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def url(pg: PostgresServer) -> str:
    """A fresh database per test, so tests never see each other's rows or leases."""
    name = f"state_{uuid.uuid4().hex[:10]}"
    pg.create_database(name)
    return pg.url(name)


def test_rows_are_keyed_by_uidvalidity_on_both_sides(url: str) -> None:
    st = StateStore(url)
    st.put_messages(PAIR, "INBOX", 100, "INBOX", 200, [MessageRow(1, 11, "k1", "", DONE)])
    assert st.messages(PAIR, "INBOX", 100, "INBOX", 200)[1].dst_uid == 11
    assert st.messages(PAIR, "INBOX", 101, "INBOX", 200) == {}  # source UIDVALIDITY changed
    assert st.messages(PAIR, "INBOX", 100, "INBOX", 201) == {}  # destination changed
    assert st.forget_other_validity(PAIR, "INBOX", 101) == 1
    assert st.messages(PAIR, "INBOX", 100, "INBOX", 200) == {}


def test_intent_then_done_replaces_the_row_and_big_uids_fit(url: str) -> None:
    st = StateStore(url)
    big = 2**32 - 1  # UIDs and UIDVALIDITY are unsigned 32-bit: beyond Postgres' INTEGER
    st.put_messages(PAIR, "A", big, "A", 2, [MessageRow(big, None, None, "", INTENT)])
    st.put_messages(PAIR, "A", big, "A", 2, [MessageRow(big, 9, "k", "\\Seen", DONE)])
    assert st.messages(PAIR, "A", big, "A", 2) == {big: MessageRow(big, 9, "k", "\\Seen", DONE)}
    assert st.count_messages(PAIR) == {DONE: 1}


def test_a_batch_larger_than_one_delete_chunk_is_replaced_in_one_go(url: str) -> None:
    st = StateStore(url)
    st.put_messages(
        PAIR, "A", 1, "A", 2, [MessageRow(u, None, None, "", INTENT) for u in range(1, 1201)]
    )
    st.put_messages(
        PAIR, "A", 1, "A", 2, [MessageRow(u, u, None, "", DONE) for u in range(1, 1201)]
    )
    assert st.count_messages(PAIR) == {DONE: 1200}


def test_folder_state_round_trip_survives_reopen(url: str) -> None:
    fs = FolderState("INBOX", 1, 10, 7, 9, "INBOX", 2, True, 8, 1, 0)
    StateStore(url).save_folder_state(PAIR, fs)
    StateStore(url).save_folder_state(PAIR, fs)  # saving again replaces, does not duplicate
    assert StateStore(url).folder_state(PAIR, "INBOX") == fs
    assert StateStore(url).folder_states(PAIR) == {"INBOX": fs}
    assert StateStore(url).folder_state(PAIR, "Sent") is None


def test_lease_excludes_a_second_sync_of_the_same_pair(url: str) -> None:
    """I10: while one worker holds the lease, another is refused; other pairs are free."""
    a, b = StateStore(url), StateStore(url)
    with a.lease(PAIR):
        with pytest.raises(StateLocked):
            b.acquire(PAIR)
        b.acquire("another-pair")
    with b.lease(PAIR), pytest.raises(StateLocked):
        a.acquire(PAIR)


def test_expired_lease_is_taken_over(url: str) -> None:
    dead = StateStore(url, lease_seconds=-1.0)
    dead.acquire(PAIR)
    StateStore(url).acquire(PAIR)
    with pytest.raises(StateLocked):
        dead.acquire(PAIR)  # the new holder's lease is live


def test_concurrent_acquire_only_one_wins(url: str) -> None:
    stores = [StateStore(url) for _ in range(6)]
    wins: list[int] = []
    refused: list[int] = []
    barrier = threading.Barrier(len(stores))

    def grab(i: int) -> None:
        barrier.wait()
        try:
            stores[i].acquire(PAIR)
            wins.append(i)
        except StateLocked:
            refused.append(i)

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(refused) == 5
    for st in stores:
        st.dispose()


def test_workers_opening_a_new_store_at_once_all_succeed(pg: PostgresServer) -> None:
    """Parallel mailbox syncs create the tables of a fresh database together: none may fail.

    Unserialised, two ``CREATE TABLE IF NOT EXISTS`` of one table race on Postgres ("type ...
    already exists") in about 7 of 100 rounds of 10 openers; hence several fresh databases.
    """
    errors: list[BaseException] = []
    for _ in range(8):
        name = f"fresh_{uuid.uuid4().hex[:10]}"
        pg.create_database(name)
        url = pg.url(name)
        barrier = threading.Barrier(10)

        def open_store(url: str = url, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                StateStore(url).dispose()
            except StateError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        StateStore(url).put_messages(PAIR, "A", 1, "A", 2, [MessageRow(1, 1, None, "", DONE)])
    assert errors == []


def test_lease_of_a_killed_process_is_taken_over_at_once(url: str) -> None:
    """A re-run right after ``kill -9`` of the holder proceeds without waiting for expiry."""
    code = (
        "import sys; from onboarding.mailsync import StateStore;"
        f"StateStore({url!r}).acquire({PAIR!r}); print('held', flush=True);"
        "sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(StateLocked):
            StateStore(url).acquire(PAIR)  # alive: refused
        child.kill()
        child.wait()
        StateStore(url).acquire(PAIR)  # dead: taken over
    finally:
        child.kill()
        child.wait()


def test_a_wrong_password_names_the_store_without_the_password(pg: PostgresServer) -> None:
    bad = pg.url("postgres").replace("postgres:", "postgres:Wr0ngPass", 1)
    assert "Wr0ngPass" in bad
    with pytest.raises(StateError) as caught:
        StateStore(bad)
    message = str(caught.value)
    assert "Wr0ngPass" not in message and "***" in message
    assert f"127.0.0.1:{pg.port}" in message and "password authentication failed" in message


def test_sync_twice_with_state_in_postgres_copies_nothing_the_second_time(
    lab: Lab, lab_user: LabUser, url: str, pair_for: Callable[..., MailboxPair]
) -> None:
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        total = fill(c, {"INBOX": 25, "Sent Items": 6, "Projects/2024": 4})
        before = snapshot(c)
    pair = pair_for(lab_user)
    store = StateStore(url)

    first = sync_mailbox(pair, SyncOptions(pass_kind="initial"), store)
    assert first.status is SyncStatus.SYNCED and first.reconciles
    assert first.copied == first.in_scope == total
    assert StateStore(url).count_messages(pair.key) == {DONE: total}

    second = sync_mailbox(pair, SyncOptions(pass_kind="incremental"), StateStore(url))
    assert second.status is SyncStatus.SYNCED and second.reconciles
    assert second.copied == 0 and second.already_present == total
    assert all(f.unchanged for f in second.folders)  # skipped from the stored folder state
    with connect(
        lab.destination.host,
        lab.destination.imap_port,
        lab_user.email,
        lab_user.destination_password,
    ) as c:
        assert digests(snapshot(c)) == digests(before)
