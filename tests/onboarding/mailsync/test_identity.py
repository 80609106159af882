"""Content identity: Message-ID + INTERNALDATE instant + size, body hash without Message-ID;
stored fixed-size; bytes (exact, or line-ending-insensitive) settle whether two are the same."""

from __future__ import annotations

from onboarding.mailsync.identity import (
    body_digest,
    body_key,
    content_key,
    identity_key,
    identity_text,
    internaldate_epoch,
    message_id_from_header,
    message_id_from_message,
    normalized_digest,
    stored_identity,
)


def test_message_id_folded_and_case_insensitive() -> None:
    """The Message-ID header is found whatever its case and when folded onto the next line; none
    gives None."""
    assert message_id_from_header(b"MESSAGE-id:\r\n <abc@x.example>\r\n\r\n") == "<abc@x.example>"
    assert message_id_from_header(b"Subject: hi\r\n\r\n") is None


def test_message_id_only_from_the_header_part() -> None:
    """A Message-ID line in the body is not the message's Message-ID; only the header part
    counts."""
    msg = b"Subject: a\r\n\r\nMessage-ID: <in-body@x>\r\n"
    assert message_id_from_message(msg) is None
    assert message_id_from_message(b"Message-Id: <h@x>\r\n\r\nbody") == "<h@x>"


def test_internaldate_is_an_instant() -> None:
    """The same instant written in two zones (Dovecot stores UTC) gives the same key."""
    assert internaldate_epoch("01-Jan-2024 10:00:00 +0200") == internaldate_epoch(
        "01-Jan-2024 08:00:00 +0000"
    )
    assert internaldate_epoch(" 7-Jul-2024 10:00:00 +0000") == 1720346400


def test_key_uses_body_hash_only_without_message_id() -> None:
    """The identity key is Message-ID, INTERNALDATE and size, with a hash of the body in place of a
    missing Message-ID; equal bodies hash equal, different ones not."""
    h = body_key(b"x")
    assert identity_text("<a@b>", 1, 5, h) == "<a@b>|1|5"
    assert identity_text(None, 1, 5, h) == f"{h}|1|5"
    assert body_key(b"x") == body_key(b"x") != body_key(b"y")


def test_stored_key_is_fixed_size_and_older_texts_map_to_it() -> None:
    """Issue 14: a Message-ID of any length gives a 66-character key; a text stored by an
    older version (the identity as text) reads as the same key, so old rows keep matching."""
    long_id = "<" + "x" * 5000 + "@example.org>"
    key = identity_key(long_id, 1, 5, "")
    assert len(key) == 66 and key.startswith("h:")
    assert key == stored_identity(identity_text(long_id, 1, 5, "")) == stored_identity(key)
    assert identity_key("<a@b>", 1, 5, "") != identity_key("<a@b>", 2, 5, "")


def test_content_key_tells_apart_messages_sharing_message_id_date_and_size() -> None:
    """Issue 14: two messages with one Message-ID, date and size but other bytes (a digest
    differing in one header value) share the identity hint, not the content key."""
    a = b"Message-ID: <d@x>\r\nSubject: digest 1\r\n\r\nbody\r\n"
    b = b"Message-ID: <d@x>\r\nSubject: digest 2\r\n\r\nbody\r\n"
    ka, kb = content_key("<d@x>", 1, len(a), a), content_key("<d@x>", 1, len(b), b)
    assert ka.identity == kb.identity and ka != kb
    assert content_key("<d@x>", 1, len(a), a) == ka
    assert content_key(None, 1, len(a), a).identity == identity_key(None, 1, len(a), body_key(a))
    assert ka.digest == body_digest(a)


def test_normalized_digest_ignores_line_endings_only() -> None:
    """A copy whose line endings a destination changed (bare LF or CR made CRLF, a final CRLF
    added) has the same normalized digest; any other change gives another."""
    crlf = b"Subject: a\r\n\r\nline 1\r\nline 2\r\n"
    assert normalized_digest(crlf) == normalized_digest(b"Subject: a\n\nline 1\nline 2")
    assert normalized_digest(crlf) == normalized_digest(b"Subject: a\r\rline 1\rline 2\r\n")
    assert normalized_digest(crlf) != normalized_digest(crlf.replace(b"2", b"3"))
    assert body_digest(crlf) != body_digest(crlf.replace(b"\r\n", b"\n"))


def test_missing_or_bad_internaldate_is_zero_not_an_error() -> None:
    """An empty or unparsable INTERNALDATE counts as 0 rather than failing the message."""
    assert internaldate_epoch("") == 0
    assert internaldate_epoch("yesterday") == 0
