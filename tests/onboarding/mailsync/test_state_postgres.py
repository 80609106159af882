"""The state store on a real PostgreSQL (the production store, shared by workers).

test_state.py runs the shared contract on both backends; here is what is Postgres's own:
32-bit unsigned UIDs beyond INTEGER, big batches, concurrent opens of fresh databases, a wrong
password, and one mailbox synced twice through the lab's Dovecots with state in Postgres.
The ``pg`` and ``url`` fixtures live in conftest.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from support.mail import connect, digests, fill, make_message, snapshot
from support.state_race import open_at_once

from lab import Lab, LabUser
from lab.postgres import PostgresServer
from onboarding.mailsync import (
    MailboxPair,
    StateError,
    StateStore,
    SyncOptions,
    SyncStatus,
    sync_mailbox,
)
from onboarding.mailsync.state import DONE, INTENT, FolderKey, MessageRow

PAIR = "src:143/ann@x=>dst:143/ann@x"


def test_intent_then_done_replaces_the_row_and_big_uids_fit(url: str) -> None:
    """On PostgreSQL a done row replaces its intent row, and UIDs and UIDVALIDITY up to 2**32-1
    fit."""
    st = StateStore(url)
    big = 2**32 - 1  # UIDs and UIDVALIDITY are unsigned 32-bit: beyond Postgres' INTEGER
    st.put_messages(FolderKey(PAIR, "A", big, "A", 2), [MessageRow(big, None, None, "", INTENT)])
    st.put_messages(FolderKey(PAIR, "A", big, "A", 2), [MessageRow(big, 9, "k", "\\Seen", DONE)])
    assert st.messages(FolderKey(PAIR, "A", big, "A", 2)) == {
        big: MessageRow(big, 9, "k", "\\Seen", DONE)
    }
    assert st.count_messages(PAIR) == {DONE: 1}


def test_a_batch_larger_than_one_delete_chunk_is_replaced_in_one_go(url: str) -> None:
    """Replacing 1,200 rows at once (more than one delete chunk) leaves exactly 1,200 done rows."""
    st = StateStore(url)
    st.put_messages(
        FolderKey(PAIR, "A", 1, "A", 2),
        [MessageRow(u, None, None, "", INTENT) for u in range(1, 1201)],
    )
    st.put_messages(
        FolderKey(PAIR, "A", 1, "A", 2), [MessageRow(u, u, None, "", DONE) for u in range(1, 1201)]
    )
    assert st.count_messages(PAIR) == {DONE: 1200}


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
        errors += open_at_once(url, workers=10)
        StateStore(url).put_messages(
            FolderKey(PAIR, "A", 1, "A", 2), [MessageRow(1, 1, None, "", DONE)]
        )
    assert errors == []


def test_a_wrong_password_names_the_store_without_the_password(pg: PostgresServer) -> None:
    """A wrong database password raises StateError naming the server and PostgreSQL's reason, with
    the password masked as ***."""
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
    """With the state in PostgreSQL the first pass copies every message and records it; the second
    copies 0, skips every folder as unchanged, and the destination holds the source's messages."""
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


def _allow_long_keywords(lab: Lab, user: LabUser, length: int) -> None:
    """Let the source keep keywords up to ``length`` characters for this user (userdb)."""
    record = lab.source.store.root / "userdb" / user.email.lower()
    data = json.loads(record.read_text()) if record.exists() else {}
    data["mail_max_keyword_length"] = str(length)
    record.write_text(json.dumps(data))


def test_a_long_message_id_and_many_keywords_fit_the_postgres_store(
    lab: Lab, lab_user: LabUser, url: str, pair_for: Callable[..., MailboxPair]
) -> None:
    """Issue 14: a 1,500-character Message-ID (over the old ``VARCHAR(1200)`` identity) and
    2,000+ characters of keywords (over the old ``VARCHAR(2000)`` flags) no longer stop the
    mailbox: the identity is stored fixed-size, the flags unbounded; a re-run copies 0."""
    _allow_long_keywords(lab, lab_user, 200)
    long_id = b"<" + b"x" * 1500 + b"@old.example>"
    keywords = [b"k%02d" % i + b"w" * 177 for i in range(12)]
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        c.append("INBOX", make_message(1, seed=47).replace(b"<m47.1@old.example>", long_id))
        c.append("INBOX", make_message(2, seed=47), flags=[b"\\Seen", *keywords])
        c.append("INBOX", make_message(3, seed=47))
        c.select_folder("INBOX")
        flags = next(iter(c.get_flags(c.search("ALL")[1:2]).values()))
    assert len(b" ".join(flags)) > 2000  # the source really holds them all
    pair = pair_for(lab_user)

    first = sync_mailbox(pair, SyncOptions(), StateStore(url))

    assert first.copied == 3 and first.failed == 0 and first.reconciles
    assert {p.error_class for p in first.problems} <= {"FlagRefused"}  # the destination's limit
    rows = StateStore(url).messages(FolderKey(pair.key, "INBOX", *_validities(url, pair.key)))
    assert {len(r.identity or "") for r in rows.values()} == {66}
    assert max(len(r.flags) for r in rows.values()) > 2000
    again = sync_mailbox(pair, SyncOptions(), StateStore(url))
    assert again.copied == 0 and again.already_present == 3
    assert all(f.unchanged for f in again.folders)


def _validities(url: str, pair_key: str) -> tuple[int, str, int]:
    fs = StateStore(url).folder_state(pair_key, "INBOX")
    assert fs is not None
    return fs.src_uidvalidity, fs.dst_folder, fs.dst_uidvalidity
