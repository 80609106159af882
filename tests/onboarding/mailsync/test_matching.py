"""Content identity on the wire: a destination folder indexed against the lab's Dovecot."""

from __future__ import annotations

from support.mail import connect, make_message

from lab import Lab, LabUser
from onboarding.mailsync import Endpoint
from onboarding.mailsync.identity import (
    body_digest,
    identity_key,
    internaldate_epoch,
    normalized_digest,
)
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.matching import DestinationIndex, source_digests, source_message_ids


def test_index_by_message_id_and_by_body_hash(lab: Lab, lab_user: LabUser) -> None:
    """The index finds a message by Message-ID + date + size, by Message-ID alone, and one
    without a Message-ID by date and size; each destination message matches once; mapped
    UIDs are left out; bytes are read only when asked, as a line-ending-insensitive digest."""
    with_id = make_message(1, seed=5)
    without_id = make_message(2, seed=5, message_id=False)
    with connect(
        lab.destination.host, lab.destination.imap_port, lab_user.email,
        lab_user.destination_password,
    ) as c:  # fmt: skip
        c.append("INBOX", with_id, flags=[b"\\Seen"])
        c.append("INBOX", without_id)
    ep = Endpoint(lab.destination.host, lab.destination.imap_port, "none", lab_user.email,
                  lab_user.destination_password)  # fmt: skip
    with ImapSession(ep, "destination").open() as s:
        info = s.select("INBOX", readonly=True)
        index = DestinationIndex(s, info.exists)
        listing = {
            int(it["UID"]): it  # type: ignore[arg-type]
            for it in s.uid_fetch(b"1:*", b"(UID INTERNALDATE RFC822.SIZE)")
        }
        (uid1, it1), (uid2, it2) = sorted(listing.items())
        when1 = internaldate_epoch(it1["INTERNALDATE"].decode())  # type: ignore[union-attr]
        when2 = internaldate_epoch(it2["INTERNALDATE"].decode())  # type: ignore[union-attr]
        key1 = identity_key("<m5.1@old.example>", when1, len(with_id), "")
        (entry1,) = index.exact(key1)
        assert (entry1.uid, entry1.flags) == (uid1, ("\\Seen",))
        assert index.with_message_id("<m5.1@old.example>") == [entry1]
        assert index.exact(identity_key("<m5.1@old.example>", when1 + 1, len(with_id), "")) == []
        index.take(entry1)
        assert index.exact(key1) == [] and len(index) == 1  # each message matches once
        (entry2,) = index.without_message_id(when2, len(without_id))
        assert entry2.uid == uid2 and index.without_message_id(when2 + 1, 1) == []
        assert index.digests == {}  # nothing read yet
        index.read_digests([entry2])
        assert index.digests == {uid2: normalized_digest(without_id)}
        assert len(DestinationIndex(s, info.exists, exclude={uid1})) == 1
        assert source_message_ids(s, [uid1, uid2]) == {uid1: "<m5.1@old.example>", uid2: None}
        assert source_digests(s, [uid2]) == {
            uid2: (body_digest(without_id), normalized_digest(without_id))
        }
