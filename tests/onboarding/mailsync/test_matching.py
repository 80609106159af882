"""Content identity on the wire: a destination folder indexed against the lab's Dovecot."""

from __future__ import annotations

from support.mail import connect, make_message

from lab import Lab, LabUser
from onboarding.mailsync import Endpoint
from onboarding.mailsync.identity import body_key, identity_key, internaldate_epoch
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.matching import DestinationIndex, source_body_keys, source_message_ids


def test_index_by_message_id_and_by_body_hash(lab: Lab, lab_user: LabUser) -> None:
    """The destination index finds a message by Message-ID, INTERNALDATE and size with its flags,
    and one without Message-ID by its body hash; each destination message matches once."""
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
        assert index.take(key1) == (uid1, ("\\Seen",))
        assert index.take(key1) is None  # each destination message matches once
        assert index.has_candidates(when2, len(without_id))
        key2 = identity_key(None, when2, len(without_id), body_key(without_id))
        index.hash_for_keys([key2])
        assert index.take(key2) == (uid2, ())
        assert source_message_ids(s, [uid1, uid2]) == {uid1: "<m5.1@old.example>", uid2: None}
        assert source_body_keys(s, [uid2]) == {uid2: body_key(without_id)}
