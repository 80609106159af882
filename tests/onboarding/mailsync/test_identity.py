"""Content identity: Message-ID + INTERNALDATE instant + size, body hash without Message-ID."""

from __future__ import annotations

from onboarding.mailsync.identity import (
    body_key,
    identity_key,
    internaldate_epoch,
    message_id_from_header,
    message_id_from_message,
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
    assert identity_key("<a@b>", 1, 5, h) == "<a@b>|1|5"
    assert identity_key(None, 1, 5, h) == f"{h}|1|5"
    assert body_key(b"x") == body_key(b"x") != body_key(b"y")


def test_missing_or_bad_internaldate_is_zero_not_an_error() -> None:
    """An empty or unparsable INTERNALDATE counts as 0 rather than failing the message."""
    assert internaldate_epoch("") == 0
    assert internaldate_epoch("yesterday") == 0
