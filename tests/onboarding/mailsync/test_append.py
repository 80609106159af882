"""APPENDUID uid-sets map back to the messages of a MULTIAPPEND in order (RFC 4315)."""

from __future__ import annotations

from onboarding.mailsync.append import AppendResult, parse_uid_set
from onboarding.mailsync.wire import parse_status_response


def test_parse_uid_set() -> None:
    """A UID set (RFC 4315 uid-set) expands ranges and single UIDs in order."""
    assert parse_uid_set(b"5:7,9") == [5, 6, 7, 9]
    assert parse_uid_set(b"12") == [12]


def test_appended_uids_match_tokens_or_are_unknown() -> None:
    """APPENDUID UIDs are matched to the appended messages in order; when the count differs or the
    server sends no APPENDUID each UID is unknown (None), never guessed."""
    ok = parse_status_response(b"M3 OK [APPENDUID 99 10:12] done")
    assert ok is not None
    assert AppendResult([1, 2, 3], ok).appended_uids == [10, 11, 12]
    assert AppendResult([1, 2], ok).appended_uids == [None, None]  # count mismatch: no guess
    plain = parse_status_response(b"M4 OK done")
    assert plain is not None
    assert AppendResult([7], plain).appended_uids == [None]
