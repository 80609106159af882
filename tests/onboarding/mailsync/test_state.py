"""The state store contract on SQLite and on a real PostgreSQL (``state_url`` runs both).

UIDVALIDITY-keyed rows (I9), intents then confirmations, folder state across reopen and the
per-pair lease (I10). SQLite-only checks follow them; Postgres-only checks are in
test_state_postgres.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from support.modes import mode, open_umask
from support.state_race import open_at_once

from onboarding.mailsync import StateError, StateLocked, StateStore
from onboarding.mailsync.state import DONE, INTENT, FolderState, MessageRow, safe_url

PAIR = "src:143/ann@x=>dst:143/ann@x"


def _store(url: str, **kw: float) -> StateStore:
    return StateStore(url, **kw)


def test_rows_are_keyed_by_uidvalidity_on_both_sides(state_url: str) -> None:
    st = _store(state_url)
    st.put_messages(PAIR, "INBOX", 100, "INBOX", 200, [MessageRow(1, 11, "k1", "", DONE)])
    assert st.messages(PAIR, "INBOX", 100, "INBOX", 200)[1].dst_uid == 11
    assert st.messages(PAIR, "INBOX", 101, "INBOX", 200) == {}  # source UIDVALIDITY changed
    assert st.messages(PAIR, "INBOX", 100, "INBOX", 201) == {}  # destination changed
    assert st.forget_other_validity(PAIR, "INBOX", 101) == 1
    assert st.messages(PAIR, "INBOX", 100, "INBOX", 200) == {}


def test_intent_then_done_replaces_the_row(state_url: str) -> None:
    st = _store(state_url)
    st.put_messages(PAIR, "A", 1, "A", 2, [MessageRow(5, None, None, "", INTENT)])
    st.put_messages(PAIR, "A", 1, "A", 2, [MessageRow(5, 9, "k", "\\Seen", DONE)])
    rows = st.messages(PAIR, "A", 1, "A", 2)
    assert rows == {5: MessageRow(5, 9, "k", "\\Seen", DONE)}
    assert st.count_messages(PAIR) == {DONE: 1}


def test_folder_state_round_trip_survives_reopen(state_url: str) -> None:
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
