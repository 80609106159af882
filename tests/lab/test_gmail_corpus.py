"""The ``gmail`` seed profile: IMAP clients see Gmail's shape (issue 10)."""

from __future__ import annotations

from support.mail import connect, snapshot

from lab import Lab, LabUsers
from lab.gmail_corpus import ALL_MAIL, IMPORTANT, STARRED, gmail_plan, gmail_pool


def test_gmail_profile_has_gmail_folders_attributes_and_one_copy_in_all_mail(
    lab: Lab, lab_users: LabUsers
) -> None:
    """Label folders and [Gmail]/ folders with their SPECIAL-USE attributes (\\All, \\Junk,
    \\Trash, \\Sent, \\Flagged, \\Important); All Mail holds every message except Spam/Trash
    exactly once; a message with two labels is byte-identical in both; starred ones are
    \\Flagged everywhere and nothing else is."""
    user = lab_users.new(destination=False)
    report = lab.seed("gmail", users=[user.email])
    corpus = gmail_plan([user.email])
    assert report.counts == corpus.counts()
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        attrs = {name: {f.decode() for f in flags} for flags, _d, name in c.list_folders()}
        snap = snapshot(c)
    assert r"\All" in attrs[ALL_MAIL]
    assert r"\Flagged" in attrs[STARRED]
    assert r"\Important" in attrs[IMPORTANT]
    assert r"\Sent" in attrs["[Gmail]/Sent Mail"]
    assert r"\Junk" in attrs["[Gmail]/Spam"]
    assert r"\Trash" in attrs["[Gmail]/Trash"]
    pool = gmail_pool(corpus, corpus.mailboxes[0])
    everything = {m.sha256 for msgs in snap.values() for m in msgs}
    all_mail = [m.sha256 for m in snap[ALL_MAIL]]
    outside = {m.sha256 for f in ("[Gmail]/Spam", "[Gmail]/Trash") for m in snap[f]}
    assert len(all_mail) == len(set(all_mail)) == len(pool) - 2
    assert set(all_mail) == everything - outside
    assert set(all_mail) & outside == set()
    inbox, work = ({m.sha256 for m in snap[f]} for f in ("INBOX", "Work"))
    assert inbox & work  # multi-label messages exist
    assert set(all_mail) - {m.sha256 for f, ms in snap.items() if not f.startswith("[") for m in ms}
    starred = {m.sha256 for m in snap[STARRED]}
    for msgs in snap.values():
        for m in msgs:
            assert (b"\\Flagged" in m.flags) == (m.sha256 in starred)
