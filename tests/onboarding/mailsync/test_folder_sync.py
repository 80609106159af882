"""One folder's pass across runs (issue 14): what is pending is retried, and a state store
that lost its latest writes never makes a pass copy again what the destination already holds.

Against the lab's two Dovecots; the destination's limits are its real account settings.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from support.lab_mailbox import assert_reconciled, dest_snapshot, fill_source, source_snapshot
from support.mail import connect, digests, make_message

from lab import Lab, LabUser, LabUsers
from onboarding.mailsync import (
    MailboxPair,
    StateStore,
    SyncOptions,
    SyncProgress,
    SyncStatus,
    sync_mailbox,
)
from onboarding.mailsync.state import PENDING


def _digests(lab: Lab, user: LabUser, side: str) -> Counter[tuple[str, frozenset[bytes], str]]:
    snap = source_snapshot(lab, user) if side == "source" else dest_snapshot(lab, user)
    return digests(snap)


def test_skipped_and_failed_messages_are_retried_by_every_pass_until_copied(
    lab: Lab, lab_users: LabUsers, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A message skipped as too big and one refused over quota stay pending: every later
    pass lists them again (the folder is never "unchanged" meanwhile) and reports them
    again; once the limits are raised, the next pass copies them and the mailbox is Synced."""
    user = lab_users.new(quota_bytes=60_000, max_message_bytes=40_000)
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        for i in range(5):
            c.append("INBOX", make_message(i, size=500, seed=37))
        c.append("INBOX", make_message(9, size=70_000, seed=37))  # over APPENDLIMIT 40,000
        c.create_folder("Big")
        for i in range(3):  # together over the 60,000-byte quota: the third does not fit
            c.append("Big", make_message(20 + i, size=25_000, seed=37))
    pair = pair_for(user)

    first = sync_mailbox(pair, SyncOptions(), store)

    assert first.status is SyncStatus.SYNCED_WITH_ERRORS
    assert (first.copied, first.skipped, first.failed) == (7, 1, 1)
    assert_reconciled(first)
    assert store.count_messages(pair.key).get(PENDING) == 2

    second = sync_mailbox(pair, SyncOptions(pass_kind="final"), store)

    assert (second.copied, second.skipped, second.failed, second.already_present) == (0, 1, 1, 7)
    assert not any(f.unchanged for f in second.folders)
    assert [f.scan for f in second.folders] == ["delta", "delta"]  # pending ones re-listed
    assert Counter(p.error_class for p in second.problems) == {"TooBig": 1, "OverQuota": 1}
    assert_reconciled(second)

    lab.destination.set_account(user.email, user.destination_password)  # limits raised
    third = sync_mailbox(pair, SyncOptions(pass_kind="final"), store)

    assert third.status is SyncStatus.SYNCED and not third.problems
    assert (third.copied, third.skipped, third.failed, third.already_present) == (2, 0, 0, 7)
    assert_reconciled(third)
    assert store.count_messages(pair.key).get(PENDING, 0) == 0
    assert _digests(lab, user, "destination") == _digests(lab, user, "source")
    last = sync_mailbox(pair, SyncOptions(), store)
    assert last.copied == 0 and all(f.unchanged for f in last.folders)


def _backup(db: Path, to: Path) -> None:
    """A consistent copy of a live SQLite store (the backup API, as a backup job would)."""
    src, dst = sqlite3.connect(db), sqlite3.connect(to)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _restore(backup: Path, db: Path) -> None:
    """Put the backup in place of the store. A backup taken during a pass holds that pass's
    lease; the run is over by now (in production its process is gone and the lease is taken
    over at once, see test_state.py), so the restored copy drops it."""
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, db)
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute("DELETE FROM mailsync_lease")
    finally:
        conn.close()


def test_state_rolled_back_mid_folder_does_not_copy_the_rest_again(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair], tmp_path: Path
) -> None:
    """The store is restored from a backup taken after the first batch of a folder (what a
    power loss with ``synchronous=NORMAL`` also does): the next pass reconciles the folder
    against the destination and appends nothing it already holds."""
    total = fill_source(lab, lab_user, {"INBOX": 30, "Archive": 8})
    db, saved = tmp_path / "state.db", tmp_path / "backup.db"
    pair = pair_for(lab_user)
    backups: list[int] = []

    def back_up_once(tick: SyncProgress) -> None:
        if not backups and tick.folder == "INBOX" and 0 < tick.messages_done < 30:
            _backup(db, saved)
            backups.append(tick.messages_done)

    store = StateStore(f"sqlite:///{db}")
    first = sync_mailbox(pair, SyncOptions(fetch_batch=10), store, progress=back_up_once)
    store.dispose()
    assert first.copied == total and backups
    _restore(saved, db)

    rolled_back = StateStore(f"sqlite:///{db}")
    try:
        out = sync_mailbox(pair, SyncOptions(), rolled_back)
        again = sync_mailbox(pair, SyncOptions(), rolled_back)
    finally:
        rolled_back.dispose()

    assert (out.copied, out.already_present) == (0, total)
    assert_reconciled(out)
    assert _digests(lab, lab_user, "destination") == _digests(lab, lab_user, "source")
    assert again.copied == 0


def test_state_rolled_back_to_an_earlier_pass_does_not_copy_new_mail_twice(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair], tmp_path: Path
) -> None:
    """The store is restored to a complete earlier pass; a later pass had copied new mail
    since. The folder state says complete, but the destination holds more than the store
    has copies for: the new mail is found there, not appended a second time."""
    total = fill_source(lab, lab_user, {"INBOX": 12})
    db, saved = tmp_path / "state.db", tmp_path / "backup.db"
    pair = pair_for(lab_user)
    store = StateStore(f"sqlite:///{db}")
    sync_mailbox(pair, SyncOptions(), store)
    _backup(db, saved)
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        for i in range(4):
            c.append("INBOX", make_message(700 + i, seed=43, message_id=i != 3))
    assert sync_mailbox(pair, SyncOptions(), store).copied == 4
    store.dispose()
    _restore(saved, db)

    rolled_back = StateStore(f"sqlite:///{db}")
    try:
        out = sync_mailbox(pair, SyncOptions(pass_kind="final"), rolled_back)
    finally:
        rolled_back.dispose()

    assert (out.copied, out.already_present) == (0, total + 4)
    assert [f.scan for f in out.folders] == ["delta"]  # still only the new UIDs were read
    assert_reconciled(out)
    assert _digests(lab, lab_user, "destination") == _digests(lab, lab_user, "source")
