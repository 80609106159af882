"""The state store contract on SQLite and on a real PostgreSQL (``state_url`` runs both).

UIDVALIDITY-keyed rows (I9), intents then confirmations, folder state across reopen and the
per-pair lease (I10). SQLite-only checks follow them; Postgres-only checks are in
test_state_postgres.py.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.modes import mode, open_umask
from support.state_race import open_at_once

from onboarding.mailsync import StateError, StateLocked, StateStore
from onboarding.mailsync.state import (
    DONE,
    INTENT,
    PENDING,
    FolderKey,
    FolderState,
    MessageRow,
    safe_url,
)

PAIR = "src:143/ann@x=>dst:143/ann@x"


def _store(url: str, **kw: float) -> StateStore:
    return StateStore(url, **kw)


def test_rows_are_keyed_by_uidvalidity_on_both_sides(state_url: str) -> None:
    """Stored message rows belong to one source and one destination UIDVALIDITY: either changing
    hides them, and forget_other_validity deletes the rows of the old one."""
    st = _store(state_url)
    st.put_messages(
        FolderKey(PAIR, "INBOX", 100, "INBOX", 200), [MessageRow(1, 11, "k1", "", DONE)]
    )
    assert st.messages(FolderKey(PAIR, "INBOX", 100, "INBOX", 200))[1].dst_uid == 11
    assert (
        st.messages(FolderKey(PAIR, "INBOX", 101, "INBOX", 200)) == {}
    )  # source UIDVALIDITY changed
    assert st.messages(FolderKey(PAIR, "INBOX", 100, "INBOX", 201)) == {}  # destination changed
    assert st.forget_other_validity(PAIR, "INBOX", 101) == 1
    assert st.messages(FolderKey(PAIR, "INBOX", 100, "INBOX", 200)) == {}


def test_intent_then_done_replaces_the_row(state_url: str) -> None:
    """Writing the done row for a UID that had an intent row replaces it; the count shows one done
    message."""
    st = _store(state_url)
    st.put_messages(FolderKey(PAIR, "A", 1, "A", 2), [MessageRow(5, None, None, "", INTENT)])
    st.put_messages(FolderKey(PAIR, "A", 1, "A", 2), [MessageRow(5, 9, "k", "\\Seen", DONE)])
    rows = st.messages(FolderKey(PAIR, "A", 1, "A", 2))
    assert rows == {5: MessageRow(5, 9, "k", "\\Seen", DONE)}
    assert st.count_messages(PAIR) == {DONE: 1}


def test_digest_and_pending_rows_round_trip(state_url: str) -> None:
    """A copy's byte digest and a pending (skipped or failed) row, and a folder state's
    pending count, read back as written."""
    st = _store(state_url)
    done = MessageRow(1, 11, "h:" + "a" * 64, "\\Seen", DONE, "b" * 64)
    waiting = MessageRow(2, None, None, "", PENDING)
    st.put_messages(FolderKey(PAIR, "A", 1, "A", 2), [done, waiting])
    assert st.messages(FolderKey(PAIR, "A", 1, "A", 2)) == {1: done, 2: waiting}
    fs = FolderState("A", 1, 3, 7, 2, "A", 2, True, 1, 0, 1, pending=1)
    st.save_folder_state(PAIR, fs)
    assert _store(state_url).folder_state(PAIR, "A") == fs


def test_folder_state_round_trip_survives_reopen(state_url: str) -> None:
    """A folder state saved (twice) reads back equal from a new store, once; an unknown folder has
    none."""
    fs = FolderState("INBOX", 1, 10, 7, 9, "INBOX", 2, True, 8, 1, 0)
    _store(state_url).save_folder_state(PAIR, fs)
    _store(state_url).save_folder_state(PAIR, fs)  # saving again replaces, does not duplicate
    assert _store(state_url).folder_state(PAIR, "INBOX") == fs
    assert _store(state_url).folder_states(PAIR) == {"INBOX": fs}
    assert _store(state_url).folder_state(PAIR, "Sent") is None


def test_lease_excludes_a_second_sync_of_the_same_pair(state_url: str) -> None:
    """I10: while one store holds the lease, another (another worker) is refused."""
    a, b = _store(state_url), _store(state_url)
    with a.lease(PAIR):
        with pytest.raises(StateLocked):
            b.acquire(PAIR)
        b.acquire("another-pair")  # other pairs are independent
    with b.lease(PAIR), pytest.raises(StateLocked):
        a.acquire(PAIR)


def test_expired_lease_is_taken_over(state_url: str) -> None:
    """A sync killed with -9 never releases; its lease expires and the next run proceeds."""
    dead = _store(state_url, lease_seconds=-1.0)
    dead.acquire(PAIR)
    _store(state_url).acquire(PAIR)
    with pytest.raises(StateLocked):
        dead.acquire(PAIR)  # the new holder's lease is live


def test_concurrent_acquire_only_one_wins(state_url: str) -> None:
    """I10: of six stores grabbing one pair at once exactly one wins; every other gets
    StateLocked naming the pair (not another error, not nothing)."""
    stores = [_store(state_url) for _ in range(6)]
    wins: list[int] = []
    lost: dict[int, BaseException] = {}
    barrier = threading.Barrier(len(stores))

    def grab(i: int) -> None:
        barrier.wait()
        try:
            stores[i].acquire(PAIR)
            wins.append(i)
        except BaseException as exc:  # checked below: each loser must get StateLocked
            lost[i] = exc

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert sorted(lost) == sorted(set(range(len(stores))) - set(wins))
    assert all(isinstance(e, StateLocked) for e in lost.values()), lost
    assert all(e.mailbox == PAIR and "another sync" in str(e) for e in lost.values()), lost
    for st in stores:
        st.dispose()


def test_workers_opening_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    """Parallel mailbox syncs create the tables of a fresh store together: none may fail
    (check-then-create raced: "table already exists"; the WAL switch: "database is locked")."""
    assert open_at_once(f"sqlite:///{tmp_path / 'fresh.db'}", workers=6) == []


def test_a_store_that_cannot_be_opened_is_named_with_the_reason(tmp_path: Path) -> None:
    """The error names the store and why, and fails at once (only a lock is waited for)."""
    missing = tmp_path / "no-such-folder" / "state.db"
    with pytest.raises(StateError) as caught:
        StateStore(f"sqlite:///{missing}")
    assert str(missing) in str(caught.value) and "unable to open" in str(caught.value)


def test_repr_hides_password() -> None:
    """A store's repr names its database kind; safe_url keeps the host and masks the password."""
    assert "sqlite" in repr(StateStore("sqlite://"))
    masked = safe_url("postgresql+psycopg://migr:s3cret@db.example/state")
    assert "s3cret" not in masked and "db.example" in masked


def test_lease_of_a_killed_process_is_taken_over_at_once(state_url: str) -> None:
    """A re-run right after ``kill -9`` must not wait for the lease to expire."""
    import subprocess
    import sys

    code = (
        "import sys; from onboarding.mailsync import StateStore;"
        f"StateStore({state_url!r}).acquire({PAIR!r}); print('held', flush=True);"
        "sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(StateLocked):
            _store(state_url).acquire(PAIR)  # alive: refused
        child.kill()
        child.wait()
        _store(state_url).acquire(PAIR)  # dead: taken over
    finally:
        child.kill()
        child.wait()


# The tables as versions before issue 14 created them (no digest, no pending; bounded text).
_OLD_SCHEMA = (
    "CREATE TABLE mailsync_message (pair_key VARCHAR(600) NOT NULL, src_folder VARCHAR(1000)"
    " NOT NULL, src_uidvalidity BIGINT NOT NULL, src_uid BIGINT NOT NULL, dst_folder"
    " VARCHAR(1000) NOT NULL, dst_uidvalidity BIGINT NOT NULL, dst_uid BIGINT, identity"
    " VARCHAR(1200), flags VARCHAR(2000) NOT NULL, state VARCHAR(8) NOT NULL,"
    " PRIMARY KEY (pair_key, src_folder, src_uidvalidity, src_uid))",
    "CREATE TABLE mailsync_folder (pair_key VARCHAR(600) NOT NULL, src_folder VARCHAR(1000)"
    " NOT NULL, src_uidvalidity BIGINT NOT NULL, src_uidnext BIGINT NOT NULL, src_modseq"
    " BIGINT, src_messages BIGINT NOT NULL, dst_folder VARCHAR(1000) NOT NULL,"
    " dst_uidvalidity BIGINT NOT NULL, complete BOOLEAN NOT NULL, present BIGINT NOT NULL,"
    " dups BIGINT NOT NULL, skipped BIGINT NOT NULL, updated_at FLOAT NOT NULL,"
    " PRIMARY KEY (pair_key, src_folder))",
    "CREATE TABLE mailsync_lease (pair_key VARCHAR(600) NOT NULL, owner VARCHAR(200) NOT NULL,"
    " expires_at FLOAT NOT NULL, PRIMARY KEY (pair_key))",
    "INSERT INTO mailsync_message VALUES ('p', 'INBOX', 1, 7, 'INBOX', 2, 70,"
    " '<a@b>|1700000000|512', '\\Seen', 'done')",
    "INSERT INTO mailsync_folder VALUES ('p', 'INBOX', 1, 9, 5, 8, 'INBOX', 2, TRUE, 7, 0, 1, 0)",
)


def test_a_store_written_before_issue_14_is_upgraded_in_place(state_url: str) -> None:
    """An older store opens and keeps its rows; flags are no longer bounded (Postgres had
    ``VARCHAR(2000)``); a folder it marked complete with a skipped message counts that message
    as pending, so the next pass lists the folder again instead of skipping it for good."""
    engine = sa.create_engine(state_url)
    with engine.begin() as conn:
        for statement in _OLD_SCHEMA:
            conn.execute(sa.text(statement))
    engine.dispose()

    st = _store(state_url)
    _store(state_url)  # a second opener finds nothing left to upgrade

    (row,) = st.messages(FolderKey("p", "INBOX", 1, "INBOX", 2)).values()
    assert row == MessageRow(7, 70, "<a@b>|1700000000|512", "\\Seen", DONE, None)
    flags = " ".join(f"keyword{i:03d}" + "x" * 40 for i in range(120))  # 6,000 characters
    st.put_messages(
        FolderKey("p", "INBOX", 1, "INBOX", 2), [MessageRow(8, 80, "h:" + "0" * 64, flags, DONE)]
    )
    assert st.messages(FolderKey("p", "INBOX", 1, "INBOX", 2))[8].flags == flags
    fs = st.folder_state("p", "INBOX")
    assert fs is not None and fs.complete and (fs.skipped, fs.pending) == (1, 1)
    status = {"UIDVALIDITY": 1, "UIDNEXT": 9, "MESSAGES": 8, "HIGHESTMODSEQ": 5}
    assert not fs.unchanged(status, {"UIDVALIDITY": 2}, "INBOX")
    assert dataclasses.replace(fs, skipped=0, pending=0).unchanged(
        status, {"UIDVALIDITY": 2}, "INBOX"
    )


def test_a_sqlite_state_file_is_created_private(tmp_path: Path) -> None:
    """Rule: the state DB (addresses, folders, message ids) is 0600, and so are SQLite's
    -wal/-shm files beside it."""
    (tmp_path / "runs" / "acme").mkdir(parents=True)
    with open_umask():
        store = StateStore(f"sqlite:///{tmp_path / 'runs' / 'acme' / 'state.db'}")
        try:
            store.acquire("pair-1")
            store.release("pair-1")
            db = tmp_path / "runs" / "acme" / "state.db"
            beside = [p for p in db.parent.iterdir() if p.name.startswith("state.db")]
            assert db in beside and {mode(p) for p in beside} == {0o600}, beside
        finally:
            store.dispose()
