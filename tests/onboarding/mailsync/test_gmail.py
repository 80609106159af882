"""A Gmail source migrated the way its users see it (issue 10, docs/gmail.md).

Against the lab's Gmail-shaped source (``lab.seed("gmail")``: label folders, ``[Gmail]/All
Mail`` with ``\\All`` holding every message once, Starred, Important, Spam, Trash); the parser
and planner tests use literal wire bytes and LIST entries for the ``X-GM-EXT-1`` path, which
stock Dovecot cannot offer.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from support.mail import Message, connect, digests, make_message, snapshot

from lab import Lab, LabUser, LabUsers
from lab.gmail_corpus import ALL_MAIL, GMAIL_EXPECTED, IMPORTANT, STARRED, gmail_plan, gmail_pool
from onboarding.mailsync import (
    Endpoint,
    MailboxOutcome,
    MailboxPair,
    StateStore,
    SyncOptions,
    SyncStatus,
    plan,
    sync_mailbox,
)
from onboarding.mailsync.folders import Namespace, build_folder_map
from onboarding.mailsync.gmail import (
    ALL_MAIL_REASON,
    IMPORTANT_REASON,
    STARRED_REASON,
    as_archive,
    detect_gmail,
    gmail_plans,
    identities,
)
from onboarding.mailsync.imap import ListEntry
from onboarding.mailsync.report import MailboxResult, build_report
from onboarding.mailsync.wire import RawResponse, Token, fetch_items, parse_tokens

# How the source is logged in to. "password": the user's own LOGIN (the lab's stand-in until
# Google's service-account XOAUTH2 lands); integration adds "google" here.
AUTH_MODES = ("password",)
NOT_FOLDERS = (ALL_MAIL, STARRED, IMPORTANT)


def _pair(lab: Lab, user: LabUser, auth: str) -> MailboxPair:
    assert auth in AUTH_MODES
    src = Endpoint(lab.source.host, lab.source.imap_port, "none", user.email, user.source_password)
    dst = Endpoint(
        lab.destination.host,
        lab.destination.imap_port,
        "none",
        user.email,
        user.destination_password,
    )
    return MailboxPair(user.email, src, dst)


def _snap(host: str, port: int, login: str, password: str) -> dict[str, list[Message]]:
    with connect(host, port, login, password) as client:
        return snapshot(client)


def _dest(lab: Lab, user: LabUser) -> dict[str, list[Message]]:
    return _snap(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    )


def _gmail_user(lab: Lab, lab_users: LabUsers) -> tuple[LabUser, dict[str, list[Message]]]:
    """A user whose source is the Gmail profile, and the source as IMAP shows it. The
    destination quota fits what the rules copy (plus 10%), not a copy of every folder."""
    user = lab_users.new()
    lab.seed("gmail", users=[user.email])
    src = _snap(lab.source.host, lab.source.imap_port, user.email, user.source_password)
    kept = sum(
        m.size
        for name, msgs in src.items()
        for m in msgs
        if name not in NOT_FOLDERS or (name == ALL_MAIL and m.sha256 in _archived_digests(src))
    )
    everything = sum(m.size for msgs in src.values() for m in msgs)
    quota = kept * 11 // 10
    assert everything > quota  # copying every folder as it is would fail on quota
    lab.destination.set_account(user.email, user.destination_password, quota_bytes=quota)
    d = lab.destination
    with connect(d.host, d.imap_port, user.email, user.destination_password) as client:
        limits = [q.limit for q in client.get_quota_root("INBOX")[1] if q.resource == "STORAGE"]
    assert len(limits) == 1 and abs(limits[0] - quota / 1024) <= 1  # KiB, rounded up
    return user, src


def _archived_digests(src: dict[str, list[Message]]) -> set[str]:
    labelled = {m.sha256 for name, ms in src.items() if name not in NOT_FOLDERS for m in ms}
    return {m.sha256 for m in src[ALL_MAIL]} - labelled


def _dest_name(name: str) -> str:
    return name.replace("/", ".")


def _check_destination(lab: Lab, user: LabUser, src: dict[str, list[Message]]) -> None:
    dst = _dest(lab, user)
    counts = {name: len(msgs) for name, msgs in dst.items() if msgs}
    assert counts == {_dest_name(k): v for k, v in GMAIL_EXPECTED.items()}
    assert sum(counts.values()) == sum(GMAIL_EXPECTED.values()) == 44
    # Nothing doubled: a message is stored once per label it has (once in Archive if none).
    corpus = gmail_plan([user.email])
    pool = gmail_pool(corpus, corpus.mailboxes[0])
    stored = Counter(m.sha256 for msgs in dst.values() for m in msgs)
    src_sha = {m.sha256 for msgs in src.values() for m in msgs}
    assert len(stored) == len(pool) == len(src_sha)
    archive = {m.sha256 for m in dst["Archive"]}
    assert archive == _archived_digests(src) and len(archive) == GMAIL_EXPECTED["Archive"]
    assert max(stored.values()) == 3 and sorted(Counter(stored.values()).items()) == [
        (1, 33),
        (2, 4),
        (3, 1),
    ]
    # Bytes, flags and INTERNALDATE as the source shows them, folder by folder.
    wanted = digests({k: v for k, v in src.items() if k not in NOT_FOLDERS})
    wanted += digests({"Archive": [m for m in src[ALL_MAIL] if m.sha256 in archive]})
    assert digests(dst) == wanted
    starred = {m.sha256 for m in src[STARRED]}
    assert all(
        (b"\\Flagged" in m.flags) == (m.sha256 in starred) for ms in dst.values() for m in ms
    )
    assert any(b"\\Flagged" in m.flags for m in dst["Archive"])  # starred and archived


def _check_outcome(out: MailboxOutcome, *, copied: int) -> None:
    assert out.status is SyncStatus.SYNCED and out.failed == 0 and out.skipped == 0
    assert out.reconciles and out.copied == copied
    assert out.gmail is not None
    assert (out.gmail.all_mail, out.gmail.in_labels, out.gmail.archived) == (36, 30, 6)
    assert (out.gmail.starred, out.gmail.important, out.gmail.archive_folder) == (6, 7, "Archive")
    excluded = {p.source: p.reason for p in out.excluded_folders}
    assert excluded[STARRED] == STARRED_REASON and excluded[IMPORTANT] == IMPORTANT_REASON


@pytest.mark.parametrize("auth", AUTH_MODES)
def test_google_style_migration_copies_labels_archives_all_mail_only_and_doubles_nothing(
    lab: Lab, lab_users: LabUsers, store: StateStore, auth: str
) -> None:
    """Rules of docs/gmail.md: every label folder copied, All Mail's unlabelled messages (and
    only they) in Archive, Starred as \\Flagged and Important not folders, Spam→Junk and
    Trash→Trash; per-folder and total counts exact, nothing stored twice, bytes/flags/
    INTERNALDATE kept, no quota failure on a quota that fits only that; the report says what
    was done with All Mail, Starred and Important; an incremental re-run copies 0."""
    user, src = _gmail_user(lab, lab_users)
    pair = _pair(lab, user, auth)

    dry = {p.source: p for p in plan(pair, SyncOptions()).folders}
    assert dry[ALL_MAIL].destination == "Archive" and dry[ALL_MAIL].reason == ALL_MAIL_REASON
    assert dry[STARRED].action == dry[IMPORTANT].action == "exclude"

    out = sync_mailbox(pair, SyncOptions(), store)
    _check_outcome(out, copied=44)
    _check_destination(lab, user, src)
    report = build_report("acme", "initial", [MailboxResult(user.email, out)])
    sentence = str(report.mailboxes[0]["gmail"])
    assert "All Mail 36: 30 in label folders (not copied again), 6 only there → Archive" in sentence
    assert "Starred 6" in sentence and "Important 7" in sentence
    assert sentence in report.markdown()

    again = sync_mailbox(pair, SyncOptions(pass_kind="incremental"), store)
    _check_outcome(again, copied=0)
    _check_destination(lab, user, src)


def test_gmail_rerun_without_state_finds_every_copy_and_copies_nothing(
    lab: Lab, lab_users: LabUsers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """I1 with the state store lost: content identity finds the label copies and the
    archived ones at the destination; All Mail's labelled messages are still not copied."""
    user, src = _gmail_user(lab, lab_users)
    pair = _pair(lab, user, AUTH_MODES[0])
    for n in range(2):
        st = StateStore(f"sqlite:///{tmp_path_factory.mktemp('state')}/s{n}.db")
        try:
            out = sync_mailbox(pair, SyncOptions(), st)
        finally:
            st.dispose()
        _check_outcome(out, copied=44 if n == 0 else 0)
    _check_destination(lab, user, src)


# -- pure: detection, the folder map, X-GM-LABELS on the wire ------------------------------


def _entry(name: str, *flags: str) -> ListEntry:
    return ListEntry(name, ("\\HasNoChildren", *flags), "/")


GMAIL_LIST = [
    _entry("INBOX"),
    _entry("Work"),
    ListEntry("[Gmail]", ("\\Noselect", "\\HasChildren"), "/"),
    _entry("[Gmail]/Alle Nachrichten", "\\All"),
    _entry("[Gmail]/Markiert", "\\Flagged"),
    _entry("[Gmail]/Wichtig", "\\Important"),
    _entry("[Gmail]/Gesendet", "\\Sent"),
]


@pytest.mark.parametrize(
    ("capabilities", "entries", "found"),
    [
        (("IMAP4rev1", "X-GM-EXT-1"), GMAIL_LIST, "[Gmail]/Alle Nachrichten"),
        (("IMAP4rev1",), GMAIL_LIST, "[Gmail]/Alle Nachrichten"),
        (("IMAP4rev1", "X-GM-EXT-1"), [_entry("Alle", "\\All")], "Alle"),
        (("IMAP4rev1",), [_entry("All", "\\All"), _entry("INBOX")], None),
        (("IMAP4rev1",), [_entry("[Gmail]/All Mail"), _entry("INBOX")], None),
    ],
)
def test_gmail_is_detected_by_capability_or_all_folder_with_gmail_names(
    capabilities: tuple[str, ...], entries: list[ListEntry], found: str | None
) -> None:
    """X-GM-EXT-1 with any \\All folder, or \\All under [Gmail]/; a plain server's \\All
    (Dovecot's virtual All) or a [Gmail]/ name without \\All is not Gmail."""
    gmail = detect_gmail(capabilities, entries)
    assert (gmail.all_mail if gmail else None) == found


def test_gmail_folder_map_sends_all_mail_to_archive_and_excludes_starred_important() -> None:
    """Localized Gmail names: All Mail maps to the destination's \\Archive folder, Starred and
    Important are excluded with the documented reason, labels keep their paths."""
    gmail = detect_gmail(("X-GM-EXT-1",), GMAIL_LIST)
    assert gmail is not None
    dst = [ListEntry("INBOX", (), "."), ListEntry("Archiv", ("\\Archive",), ".")]
    plans = gmail_plans(
        build_folder_map(as_archive(GMAIL_LIST, gmail), Namespace(), dst, Namespace("", ".")),
        gmail,
    )
    by = {p.source: p for p in plans}
    assert (by["[Gmail]/Alle Nachrichten"].destination, by["[Gmail]/Alle Nachrichten"].reason) == (
        "Archiv",
        ALL_MAIL_REASON,
    )
    assert by["[Gmail]/Markiert"].action == "exclude"
    assert by["[Gmail]/Markiert"].reason == STARRED_REASON
    assert by["[Gmail]/Wichtig"].reason == IMPORTANT_REASON
    assert by["Work"].destination == "Work" and by["[Gmail]/Gesendet"].action == "copy"


def _items(line: bytes, literal: bytes | None = None) -> dict[str, Token]:
    if literal is None:
        resp = RawResponse(lines=[line])
    else:
        resp = RawResponse(lines=[line + b"{%d}" % len(literal), b")"], literals=[literal])
    return fetch_items(parse_tokens(resp))[1]


_HEAD = (
    b'(UID %d RFC822.SIZE 120 INTERNALDATE "04-Mar-2025 05:06:07 +0000" '
    b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)] "
)


def test_x_gm_msgid_is_the_identity_where_gmail_offers_it() -> None:
    """X-GM-MSGID (Gmail IMAP extensions) names the stored message: the same id in two
    folders is the same message, whatever else differs."""
    found = identities(
        [
            _items(b"* 1 FETCH (UID 11 X-GM-MSGID 1278455344230334865)"),
            _items(b"* 2 FETCH (X-GM-MSGID 1278455344230334866 UID 12)"),
        ]
    )
    assert found == {11: "gm:1278455344230334865", 12: "gm:1278455344230334866"}


def test_content_identity_from_headers_with_and_without_message_id() -> None:
    """Without X-GM-MSGID: Message-ID + INTERNALDATE + size; without a Message-ID the header
    fields' SHA-256 decides, so two different messages of equal size and date differ."""
    with_id = b"Message-ID: <a@x>\r\nSubject: one\r\n\r\n"
    found = identities(
        [
            _items(b"* 1 FETCH " + _HEAD % 1, with_id),
            _items(b"* 2 FETCH " + _HEAD % 2, b"Message-ID: <a@x>\r\nSubject: changed\r\n\r\n"),
            _items(b"* 3 FETCH " + _HEAD % 3, b"Subject: one\r\n\r\n"),
            _items(b"* 4 FETCH " + _HEAD % 4, b"Subject: two\r\n\r\n"),
            _items(b"* 5 FETCH (UID 5 FLAGS (\\Seen))"),  # an unsolicited flag update
        ]
    )
    assert found[1] == found[2] and len({found[1], found[3], found[4]}) == 3 and 5 not in found


def test_gmail_incremental_copies_new_mail_once_and_keeps_earlier_decisions(
    lab: Lab, lab_users: LabUsers, store: StateStore
) -> None:
    """After the first pass: new mail in INBOX (so also in All Mail) is copied once, to INBOX;
    newly archived mail (All Mail only) to Archive; a message whose only label was removed
    after its copy was made is not copied a second time into Archive."""
    user, src = _gmail_user(lab, lab_users)
    pair = _pair(lab, user, AUTH_MODES[0])
    sync_mailbox(pair, SyncOptions(), store)
    others = {m.sha256 for f in ("INBOX", "Travel", "Work") for m in src[f]}
    only_receipts = [m.uid for m in src["Receipts"] if m.sha256 not in others]
    assert len(only_receipts) == 2
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        for n, folders in ((1, ("INBOX", ALL_MAIL)), (2, (ALL_MAIL,))):
            for folder in folders:
                c.append(folder, make_message(n, seed=77), (b"\\Seen",), when)
        c.select_folder("Receipts")
        c.delete_messages(only_receipts[:1])
        c.expunge()
    again = sync_mailbox(pair, SyncOptions(pass_kind="incremental"), store)
    assert again.copied == 2 and again.reconciles and again.failed == 0
    by = {f.source: f for f in again.folders}
    assert (by["INBOX"].copied, by[ALL_MAIL].copied, by[ALL_MAIL].source_duplicates) == (1, 1, 31)
    dst = _dest(lab, user)
    counts = {name: len(msgs) for name, msgs in dst.items() if msgs}
    assert counts == {
        _dest_name(k): v + (1 if k in ("INBOX", "Archive") else 0)
        for k, v in GMAIL_EXPECTED.items()
    }


def test_a_gmail_label_named_archive_merges_with_all_mail_only_when_configured() -> None:
    """A user label "Archive" and All Mail both reach Archive: an error by the folder rules
    (I7), a merge with the documented folder_renames entries (docs/gmail.md)."""
    entries = [*GMAIL_LIST, _entry("Archive")]
    gmail = detect_gmail(("X-GM-EXT-1",), entries)
    assert gmail is not None
    dst = [ListEntry("INBOX", (), "."), ListEntry("Archive", ("\\Archive",), ".")]
    renames = {"Archive": "Archive", "[Gmail]/Alle Nachrichten": "Archive"}
    for configured, actions in ((None, {"error", "copy"}), (renames, {"copy"})):
        plans = gmail_plans(
            build_folder_map(
                as_archive(entries, gmail),
                Namespace(),
                dst,
                Namespace("", "."),
                folder_renames=configured,
            ),
            gmail,
        )
        by = {p.source: p for p in plans}
        pair = (by["Archive"], by["[Gmail]/Alle Nachrichten"])
        assert {p.action for p in pair} == actions
    assert pair[1].reason == ALL_MAIL_REASON and pair[0].destination == pair[1].destination
