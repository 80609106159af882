"""sync_mailbox against the lab's two real Dovecots: invariants I1-I9, I11 at engine level."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.lab_mailbox import (
    append_new_mail,
    assert_reconciled,
    dest_snapshot,
    fill_source,
    source_snapshot,
)
from support.mail import append_at_one_date, connect, digests, make_message

from lab import Lab, LabUser, LabUsers
from onboarding.mailsync import (
    ConnectFailed,
    Endpoint,
    MailboxPair,
    StateLocked,
    StateStore,
    SyncOptions,
    SyncProgress,
    SyncStatus,
    Throttled,
    TransientSyncError,
    preflight,
    sync_mailbox,
)
from onboarding.mailsync.imap import ImapSession, Side
from onboarding.mailsync.report import MailboxResult, build_report
from onboarding.mailsync.session import open_session
from onboarding.mailsync.state import INTENT, FolderKey, FolderState, MessageRow


def test_copy_then_rerun_copies_nothing_and_everything_reads_back_identical(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I1-I7: counts reconcile, bytes/flags/INTERNALDATE identical, source untouched, re-run 0."""
    total = fill_source(lab, lab_user, {"INBOX": 40, "Sent Items": 12, "Projects/2024": 9})
    before = source_snapshot(lab, lab_user)
    pair = pair_for(lab_user)

    ticks: list[SyncProgress] = []
    first = sync_mailbox(pair, SyncOptions(pass_kind="initial"), store, progress=ticks.append)

    assert first.status is SyncStatus.SYNCED
    assert first.copied == first.in_scope == total
    assert_reconciled(first)
    assert ticks[-1].messages_done == ticks[-1].messages_total == total
    assert ticks[-1].folders_done == ticks[-1].folders_total
    assert [t.messages_done for t in ticks] == sorted(t.messages_done for t in ticks)
    assert source_snapshot(lab, lab_user) == before  # I6: flags and UIDs unchanged, no \Seen
    after = dest_snapshot(lab, lab_user)
    assert digests(after) == digests(before)  # I3 bytes, I4 flags, I5 INTERNALDATE
    assert len(after["Sent"]) == 12  # \Sent "Sent Items" → the destination's Sent
    assert len(after["Projects.2024"]) == 9  # "/" → "."
    with connect(
        lab.destination.host, lab.destination.imap_port, lab_user.email,
        lab_user.destination_password,
    ) as c:  # fmt: skip
        assert "Projects.2024" in {name for _f, _d, name in c.list_sub_folders()}  # subscribed

    ticks.clear()
    second = sync_mailbox(pair, SyncOptions(pass_kind="incremental"), store, progress=ticks.append)
    assert ticks[-1].messages_done == ticks[-1].messages_total == total  # skipped ones count
    assert second.copied == 0
    assert second.already_present == total
    assert all(f.unchanged for f in second.folders)
    assert_reconciled(second)
    assert digests(dest_snapshot(lab, lab_user)) == digests(before)


def test_flag_changes_propagate_without_copying(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I4: a later pass STOREs changed flags; nothing is appended again."""
    fill_source(lab, lab_user, {"INBOX": 12})
    pair = pair_for(lab_user)
    sync_mailbox(pair, SyncOptions(), store)
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        c.select_folder("INBOX")
        uids = c.search("ALL")
        c.add_flags(uids[:5], [b"\\Flagged", b"Work"])
        c.remove_flags(uids[5:8], [b"\\Seen"])
        c.add_flags(uids[5:8], [b"\\Answered"])
    out = sync_mailbox(pair, SyncOptions(pass_kind="incremental"), store)
    assert out.copied == 0
    assert out.flags_updated == 8
    assert [f.scan for f in out.folders if f.source == "INBOX"] == ["delta"]  # CHANGEDSINCE
    assert digests(dest_snapshot(lab, lab_user)) == digests(source_snapshot(lab, lab_user))


def _inbox(store: StateStore, pair: MailboxPair) -> tuple[FolderState, dict[int, MessageRow]]:
    """INBOX's folder state and message rows, as the last pass stored them."""
    fs = store.folder_state(pair.key, "INBOX")
    assert fs is not None
    key = FolderKey(pair.key, "INBOX", fs.src_uidvalidity, "INBOX", fs.dst_uidvalidity)
    return fs, store.messages(key)


def _lose_confirmations(
    store: StateStore, pair: MailboxPair, fs: FolderState, rows: Iterable[MessageRow]
) -> None:
    """Rewind INBOX ``rows`` to "intent recorded, APPEND sent, confirmation lost"."""
    store.put_messages(
        FolderKey(pair.key, "INBOX", fs.src_uidvalidity, "INBOX", fs.dst_uidvalidity),
        [MessageRow(r.src_uid, None, None, r.flags, INTENT) for r in rows],
    )
    store.save_folder_state(pair.key, dataclasses.replace(fs, complete=False))


def test_uidvalidity_change_gives_no_duplicates_and_no_deletion(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I9: after a UIDVALIDITY reset the folder is matched by content, new mail still copied."""
    # Every 11th message has no Message-ID: body-hash identity.
    n = fill_source(lab, lab_user, {"INBOX": 23})
    pair = pair_for(lab_user)
    sync_mailbox(pair, SyncOptions(), store)
    lab.source.reset_uidvalidity(lab_user.email, "INBOX")
    append_new_mail(lab, lab_user)

    out = sync_mailbox(pair, SyncOptions(pass_kind="final"), store)

    inbox = next(f for f in out.folders if f.source == "INBOX")
    assert inbox.identity_matched
    assert (inbox.copied, inbox.already_present) == (2, n)
    assert_reconciled(out)
    src, dst = source_snapshot(lab, lab_user), dest_snapshot(lab, lab_user)
    assert digests(dst) == digests(src)
    assert len(dst["INBOX"]) == n + 2
    assert sync_mailbox(pair, SyncOptions(), store).copied == 0


def test_intent_without_confirmation_is_resolved_by_searching_the_destination(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I8: a run killed between APPEND and its confirmation leaves intents; the next run finds
    those messages at the destination instead of appending them again."""
    n = fill_source(lab, lab_user, {"INBOX": 15})
    pair = pair_for(lab_user)
    sync_mailbox(pair, SyncOptions(), store)
    fs, rows = _inbox(store, pair)
    _lose_confirmations(store, pair, fs, rows.values())  # every message

    out = sync_mailbox(pair, SyncOptions(), store)

    assert out.copied == 0 and out.already_present == n
    assert len(dest_snapshot(lab, lab_user)["INBOX"]) == n
    assert store.count_messages(pair.key).get(INTENT, 0) == 0


def test_dropped_connections_reconnect_and_resume_without_duplicates(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A destination connection cut mid-APPEND and a source cut mid-FETCH: the pass
    reconnects, resolves what was in flight, and ends with every message exactly once."""
    n = fill_source(lab, lab_user, {"INBOX": 60, "Archive": 30})
    pair0 = pair_for(lab_user)
    with (
        FaultProxy((lab.source.host, lab.source.imap_port)) as sp,
        FaultProxy((lab.destination.host, lab.destination.imap_port)) as dp,
    ):
        pair = pair_for(lab_user, src_port=sp.port, dst_port=dp.port)
        dp.cut_after(40_000, direction="upstream")
        sp.cut_after(70_000, direction="downstream")
        out = sync_mailbox(pair, SyncOptions(fetch_batch=20, append_group=5), store)
        assert dp.stats().resets + sp.stats().resets == 2
    assert out.reconnects >= 1, out  # a cut during the final LOGOUT needs no reconnect
    assert out.copied == n and out.reconciles, out
    dst = dest_snapshot(lab, lab_user)
    src_digests = digests(source_snapshot(lab, lab_user))
    assert digests(dst) == src_digests, (digests(dst) - src_digests, src_digests - digests(dst))
    assert sync_mailbox(pair0, SyncOptions(), store).copied == 0


def _limit_destination_keywords(lab: Lab, user: LabUser, length: int) -> None:
    """Make the destination refuse long keywords for this user only (a userdb setting)."""
    record = lab.destination.store.root / "userdb" / user.email.lower()
    data = json.loads(record.read_text())
    data["mail_max_keyword_length"] = str(length)
    record.write_text(json.dumps(data))


def test_refused_flag_over_quota_and_too_big_are_reported_and_the_rest_completes(
    lab: Lab, lab_users: LabUsers, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I11: each problem names folder, UID, Message-ID, size, date, class and server answer."""
    user = lab_users.new(quota_bytes=120_000, max_message_bytes=60_000)
    _limit_destination_keywords(lab, user, 20)
    long_kw = "k" * 40  # fine on the source (limit 50), refused by this destination (20)
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        for i in range(10):
            c.append("INBOX", make_message(i, size=500, seed=3), flags=[b"\\Seen"])
        c.append("INBOX", make_message(50, size=500, seed=3), flags=[long_kw.encode(), b"\\Seen"])
        c.append("INBOX", make_message(51, size=90_000, seed=3))  # over APPENDLIMIT 60,000
        c.create_folder("Big")
        c.create_folder("Later")
        for i in range(3):  # together over the 120,000-byte quota: the third does not fit
            c.append("Big", make_message(60 + i, size=50_000, seed=3))
        for i in range(4):
            c.append("Later", make_message(70 + i, size=400, seed=3))

    out = sync_mailbox(pair_for(user), SyncOptions(), store)

    assert out.status is SyncStatus.SYNCED_WITH_ERRORS
    assert_reconciled(out)
    by_class = Counter(p.error_class for p in out.problems)
    assert by_class["FlagRefused"] == 1 and by_class["TooBig"] == 1 and by_class["OverQuota"] >= 1
    too_big = next(p for p in out.problems if p.error_class == "TooBig")
    assert too_big.outcome == "skipped" and too_big.size > 60_000 and too_big.uid > 0
    assert too_big.internaldate
    quota = next(p for p in out.problems if p.error_class == "OverQuota")
    assert quota.outcome == "failed" and "OVERQUOTA" in quota.server_response
    assert quota.message_id and quota.message_id.startswith("<m3.")
    flag = next(p for p in out.problems if p.error_class == "FlagRefused")
    assert flag.outcome == "flags-dropped" and "eyword" in flag.server_response
    inbox = next(f for f in out.folders if f.source == "INBOX")
    assert (inbox.copied, inbox.skipped, inbox.failed) == (11, 1, 0)
    assert inbox.dropped_flags >= 1
    dst = dest_snapshot(lab, user)
    assert len(dst["INBOX"]) == 11
    later = next(f for f in out.folders if f.source == "Later")
    assert later.copied + later.failed == 4  # quota may be exhausted: each is accounted for


def test_source_side_duplicates_are_counted_not_lost(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I2: two identical source messages (same Message-ID, date, size) → one copy + one dup."""
    msg = make_message(1, seed=11)
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        append_at_one_date(c, "INBOX", msg, msg)
        c.append("INBOX", make_message(2, seed=11))
    out = sync_mailbox(pair_for(lab_user), SyncOptions(), store)
    assert (out.in_scope, out.copied, out.source_duplicates) == (3, 2, 1)
    assert_reconciled(out)
    again = sync_mailbox(pair_for(lab_user), SyncOptions(), store)
    assert (again.copied, again.already_present, again.source_duplicates) == (0, 2, 1)


def test_a_second_sync_of_the_same_pair_is_refused(
    lab: Lab,
    lab_user: LabUser,
    store: StateStore,
    tmp_path: Path,
    pair_for: Callable[..., MailboxPair],
) -> None:
    """I10: the lease makes a concurrent sync of the same pair fail fast (transient)."""
    pair = pair_for(lab_user)
    other = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    with other.lease(pair.key), pytest.raises(StateLocked):
        sync_mailbox(pair, SyncOptions(), store)
    assert sync_mailbox(pair, SyncOptions(), store).status is SyncStatus.SYNCED


def test_throttling_backs_off_then_completes(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A "Suggested Backoff Time" answer waits (capped) and the pass then completes."""
    n = fill_source(lab, lab_user, {"INBOX": 5})
    waits: list[float] = []
    throttled: list[str] = []

    def connector(ep: Endpoint, side: Side) -> ImapSession:
        if side == "destination" and not throttled:
            throttled.append(side)
            raise Throttled(
                "Request is throttled. Suggested Backoff Time: 299961 milliseconds",
                backoff_seconds=299.961,
                side=side,
            )
        return open_session(ep, side)

    out = sync_mailbox(
        pair_for(lab_user),
        SyncOptions(max_backoff_seconds=60),
        store,
        connector=connector,
        sleep=waits.append,
    )
    assert waits == [60]
    assert (out.throttle_waits, out.retries, out.copied) == (1, 1, n)


def test_unreachable_server_raises_a_transient_error_after_retries(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A server that cannot be reached raises TransientSyncError after max_retries waits of growing
    length, and the lease is released."""
    waits: list[float] = []

    def connector(ep: Endpoint, side: Side) -> ImapSession:
        raise ConnectFailed("connection refused", side=side, host=ep.host)

    with pytest.raises(TransientSyncError):
        sync_mailbox(
            pair_for(lab_user),
            SyncOptions(max_retries=3),
            store,
            connector=connector,
            sleep=waits.append,
        )
    assert len(waits) == 3 and waits == sorted(waits)  # exponential backoff
    store.acquire(pair_for(lab_user).key)  # the lease was released on the way out


def _set_capabilities(lab: Lab, server: str, user: LabUser, capability: str) -> None:
    """Make one lab account advertise only ``capability`` (a userdb imap_capability setting)."""
    store = (lab.source if server == "source" else lab.destination).store
    record = store.root / "userdb" / user.email.lower()
    data = json.loads(record.read_text()) if record.exists() else {}
    data["imap_capability"] = capability
    record.write_text(json.dumps(data))


PLAIN_IMAP = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE NAMESPACE UIDPLUS"


def test_plain_imap4rev1_servers_still_copy_exactly(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """Without LITERAL+/MULTIAPPEND each APPEND waits for "+", without CONDSTORE nothing is
    skipped by STATUS, without UIDPLUS destination UIDs are found by identity: slower, but the
    copy is exact, flags follow, and a re-run still appends 0."""
    n = fill_source(lab, lab_user, {"INBOX": 15, "Sent": 4})
    _set_capabilities(lab, "source", lab_user, PLAIN_IMAP)
    _set_capabilities(lab, "destination", lab_user, PLAIN_IMAP.replace(" UIDPLUS", ""))
    pair = pair_for(lab_user)
    report = preflight(pair, SyncOptions())
    for side in (report.source, report.destination):
        assert not {"LITERAL+", "MULTIAPPEND", "CONDSTORE"} & set(side.capabilities)
    first = sync_mailbox(pair, SyncOptions(), store)
    assert first.copied == n and first.status is SyncStatus.SYNCED
    assert digests(dest_snapshot(lab, lab_user)) == digests(source_snapshot(lab, lab_user))
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        c.select_folder("INBOX")
        c.add_flags(c.search("ALL")[:3], [b"\\Flagged"])
    again = sync_mailbox(pair, SyncOptions(), store)
    assert (again.copied, again.already_present, again.flags_updated) == (0, n, 3)
    assert not any(f.unchanged for f in again.folders)  # no HIGHESTMODSEQ: folders re-listed
    # No UIDPLUS: destination UIDs were found by identity so the flag change still arrived.
    assert digests(dest_snapshot(lab, lab_user)) == digests(source_snapshot(lab, lab_user))


def test_destination_rejecting_a_too_big_message_fails_only_that_message(
    lab: Lab, lab_users: LabUsers, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A destination that enforces a size limit without advertising APPENDLIMIT answers
    NO [LIMIT] inside a MULTIAPPEND group; the group is re-sent one by one and only the big
    message fails, with its reason."""
    user = lab_users.new(max_message_bytes=40_000)
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        for i in range(6):
            c.append("INBOX", make_message(i, size=600, seed=9))
        c.append("INBOX", make_message(99, size=70_000, seed=9))
        for i in range(6, 9):
            c.append("INBOX", make_message(i, size=600, seed=9))
    _set_capabilities(lab, "destination", user, "IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS NAMESPACE")
    out = sync_mailbox(pair_for(user), SyncOptions(), store)
    assert (out.copied, out.failed, out.skipped) == (9, 1, 0)
    assert_reconciled(out)
    (problem,) = out.problems
    assert problem.error_class == "TooBig" and problem.outcome == "failed"
    assert problem.size > 40_000 and "LIMIT" in problem.server_response
    assert out.status is SyncStatus.SYNCED_WITH_ERRORS


def test_unconfirmed_original_of_a_source_duplicate_is_not_copied_twice(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I8 with a source duplicate: the original's confirmation was lost, its duplicate's row
    survived; the destination copy is found again, nothing is appended twice."""
    msg = make_message(1, seed=13)
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        append_at_one_date(c, "INBOX", msg, msg)
        for i in range(2, 6):
            c.append("INBOX", make_message(i, seed=13))
    pair = pair_for(lab_user)
    sync_mailbox(pair, SyncOptions(), store)
    fs, rows = _inbox(store, pair)
    originals = [r for r in rows.values() if r.state == "done"]
    _lose_confirmations(store, pair, fs, originals)
    out = sync_mailbox(pair, SyncOptions(), store)
    assert (out.copied, out.already_present, out.source_duplicates) == (0, 5, 1)
    assert len(dest_snapshot(lab, lab_user)["INBOX"]) == 5


def test_later_passes_read_only_what_changed_unless_something_was_expunged(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A delta pass lists only new UIDs (plus CONDSTORE flag changes) and still reconciles;
    after an expunge on the source only a full listing can account for every message, and
    nothing is deleted at the destination (I6)."""
    n = fill_source(lab, lab_user, {"INBOX": 20})
    pair = pair_for(lab_user)
    sync_mailbox(pair, SyncOptions(), store)
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        c.append("INBOX", make_message(500, seed=21))
        c.append("INBOX", make_message(501, seed=21), flags=[b"\\Seen"])
    delta = sync_mailbox(pair, SyncOptions(pass_kind="final"), store)
    (inbox,) = [f for f in delta.folders if f.source == "INBOX"]
    assert inbox.scan == "delta"
    assert (inbox.in_scope, inbox.copied, inbox.already_present) == (n + 2, 2, n)
    assert_reconciled(delta)
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        c.select_folder("INBOX")
        c.delete_messages(c.search("ALL")[:3])
        c.expunge()
        c.append("INBOX", make_message(502, seed=21))
    full = sync_mailbox(pair, SyncOptions(pass_kind="final"), store)
    (inbox,) = [f for f in full.folders if f.source == "INBOX"]
    assert inbox.scan == "full"
    assert (inbox.in_scope, inbox.copied, inbox.already_present) == (n, 1, n - 1)
    assert_reconciled(full)
    assert len(dest_snapshot(lab, lab_user)["INBOX"]) == n + 3  # nothing deleted there
    again = sync_mailbox(pair, SyncOptions(), store)
    assert again.copied == 0 and all(f.scan == "unchanged" for f in again.folders)


def test_server_closing_the_session_mid_pass_reconnects_and_completes(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """The source ends the session (``doveadm kick``: ``* BYE``) after the first folder; the
    pass reconnects and completes with every message exactly once."""
    n = fill_source(lab, lab_user, {"INBOX": 12, "Archive": 12, "Projects": 12})
    kicked: list[str] = []

    def kick_once(tick: SyncProgress) -> None:
        if kicked:
            return
        kicked.append(lab.source.doveadm("kick", lab_user.email))
        deadline = time.monotonic() + 10  # the kick is asynchronous: wait until it landed
        while lab_user.email in lab.source.doveadm("who", lab_user.email):
            assert time.monotonic() < deadline, "doveadm kick did not end the session"

    out = sync_mailbox(
        pair_for(lab_user), SyncOptions(), store, progress=kick_once, sleep=lambda s: None
    )
    assert kicked and out.reconnects >= 1
    assert out.copied == n and out.reconciles
    assert digests(dest_snapshot(lab, lab_user)) == digests(source_snapshot(lab, lab_user))


def test_folder_in_error_counts_its_messages_as_failed_with_the_folder_reason(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """Issue 14: ``Projects`` beside ``projects`` on a case-insensitive destination map: one
    is copied, the other is in error. Its messages are in scope and failed with the folder's
    reason, so neither the equation nor the report can call the mailbox complete."""
    n = fill_source(lab, lab_user, {"INBOX": 4, "Projects": 3, "projects": 5})
    out = sync_mailbox(pair_for(lab_user), SyncOptions(), store)

    assert out.status is SyncStatus.SYNCED_WITH_ERRORS
    assert (out.in_scope, out.copied, out.failed) == (n, 7, 5)
    assert_reconciled(out)
    (bad,) = [f for f in out.folders if f.source == "projects"]
    assert (bad.in_scope, bad.failed, bad.copied) == (5, 5, 0)
    (problem,) = out.problems
    assert (problem.folder, problem.outcome, problem.error_class) == (
        "projects", "failed", "FolderNotMapped",
    )  # fmt: skip
    assert problem.server_response.startswith("5 message(s) not copied: maps to")
    assert "folder_renames" in problem.fix

    report = build_report("acme", "initial", [MailboxResult(lab_user.email, out)])
    assert not report.ok and report.totals["failed"] == 5
    assert report.equation.endswith("→ reconciles")
    (row,) = report.failed_transfers
    assert row["folder"] == "projects" and "differing only in case" in str(row["reason"])
    again = sync_mailbox(pair_for(lab_user), SyncOptions(), store)
    assert (again.copied, again.failed, again.already_present) == (0, 5, 7)  # still counted
