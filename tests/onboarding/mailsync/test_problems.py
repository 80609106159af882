"""Refused APPENDs are classified by response code first, then by text (real server answers)."""

from __future__ import annotations

import pytest

from onboarding.mailsync.problems import FIXES, classify_refusal, describe
from onboarding.mailsync.wire import parse_status_response


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"M1 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)", "OverQuota"),
        (b"M2 NO Server Unavailable. 15 quota", "OverQuota"),
        (b"M3 NO [LIMIT] Mail size is larger than the maximum size allowed", "TooBig"),
        (b"M4 NO [TOOBIG] Maximum size of appendable message exceeded", "TooBig"),
        (b"M5 NO [CANNOT] Keyword length too long", "FlagRefused"),
        (b"M6 BAD Error in IMAP command APPEND: Invalid system flag \\RECENT", "FlagRefused"),
        (b"M7 BAD Command Argument Error. 11", "AppendRejected"),
    ],
)
def test_classify_refusal(line: bytes, expected: str) -> None:
    """A refused APPEND is classified from its response code or text (over quota, too big, flag
    refused, otherwise rejected), and each class has a fix."""
    st = parse_status_response(line)
    assert st is not None
    assert classify_refusal(st) == expected
    assert expected in FIXES


def test_describe_keeps_the_code() -> None:
    """A server refusal is described with its status, response code and text, without the tag."""
    st = parse_status_response(b"M1 NO [OVERQUOTA] Quota exceeded")
    assert st is not None and describe(st) == "NO [OVERQUOTA] Quota exceeded"
    plain = parse_status_response(b"M2 NO nope")
    assert plain is not None and describe(plain) == "NO nope"
