"""Seeding the source Dovecot: what the report says is what IMAP shows."""

from __future__ import annotations

import imaplib
from datetime import UTC

from imapclient import IMAPClient

from lab import Lab, LabUsers
from lab.corpus import BIG_MESSAGE_BYTES, messages, plan


def test_seeded_mail_is_complete_over_imap(lab: Lab, lab_users: LabUsers) -> None:
    """Every planned folder exists with exactly the planned count; flags, keywords,
    INTERNALDATE and the big message survive; the report is readable from the state folder."""
    users = [lab_users.new(destination=False) for _ in range(4)]  # one per provider style
    report = lab.seed("small", users=[u.email for u in users])
    assert lab.seeded() == report
    corpus = plan("small", [u.email for u in users])
    assert report.counts == corpus.counts()

    for n, user in enumerate(users):
        with IMAPClient("127.0.0.1", port=lab.ports.source_imap, ssl=False, timeout=30) as imap:
            imap.login(lab.source.master_login(user.email), lab.source.master_password)
            listed = {name for _flags, _sep, name in imap.list_folders()}
            for folder, count in report.counts[user.email].items():
                assert folder in listed
                assert imap.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"] == count, folder
            if n == 0:
                imap.select_folder("INBOX", readonly=True)
                assert imap.search(["LARGER", BIG_MESSAGE_BYTES])
                mailbox = corpus.mailbox(user.email)
                folder = next(f for f in mailbox.folders if f.name == "INBOX")
                planned = sorted(
                    (int(m.internaldate.timestamp()), set(m.flags), set(m.keywords))
                    for m in messages(corpus, mailbox, folder)
                )
                fetched = imap.fetch(imap.search(), ["INTERNALDATE", "FLAGS"])
                seen = sorted(
                    (
                        int(d[b"INTERNALDATE"].astimezone(UTC).timestamp()),
                        {f.decode() for f in d[b"FLAGS"] if f.startswith(b"\\")} - {r"\Recent"},
                        {f.decode() for f in d[b"FLAGS"] if not f.startswith(b"\\")},
                    )
                    for d in fetched.values()
                )
                assert seen == planned


def test_non_ascii_folder_names_are_modified_utf7_on_the_wire(
    lab: Lab, lab_users: LabUsers
) -> None:
    """RFC 3501 5.1.3: the raw LIST response carries &-encoded names, not UTF-8."""
    user = lab_users.new(destination=False)
    lab.seed("small", users=[user.email])
    imap = imaplib.IMAP4("127.0.0.1", lab.ports.source_imap)
    try:
        imap.login(user.email, user.source_password)
        _typ, lines = imap.list()
    finally:
        imap.logout()
    raw = b"\n".join(line for line in lines if isinstance(line, bytes))
    assert b"Projekte/&ANw-berblick" in raw
    assert "Überblick".encode() not in raw
