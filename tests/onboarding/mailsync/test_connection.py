"""The connection layer: throttling answers recognised (reference §4.3), logins classified."""

from __future__ import annotations

import pytest

from lab import Lab, LabUser
from onboarding.mailsync import AuthFailed, Endpoint
from onboarding.mailsync.connection import throttle_seconds
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.wire import parse_status_response


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        (b"* BYE Request is throttled. Suggested Backoff Time: 299961 milliseconds", 299.961),
        (b"A1 NO [UNAVAILABLE] Server busy, try later", 5.0),
        (b"* BYE Session expired, please login again.", 5.0),
        (b"A2 NO [LIMIT] too many connections", 5.0),
        (b"A3 NO [OVERQUOTA] Quota exceeded", None),
        (b"* BYE Logging out", None),
    ],
)
def test_throttle_seconds(line: bytes, seconds: float | None) -> None:
    """A throttling reply gives its wait: the server's suggested backoff, else 5 s for UNAVAILABLE,
    LIMIT or an expired session; other replies (OVERQUOTA, a plain BYE) are no throttle."""
    st = parse_status_response(line)
    assert st is not None
    assert throttle_seconds(st) == seconds


def test_wrong_password_is_auth_failed_without_the_password(lab: Lab, lab_user: LabUser) -> None:
    """A wrong password raises AuthFailed for that side, and the message does not quote the
    password."""
    ep = Endpoint(lab.source.host, lab.source.imap_port, "none", lab_user.email, "Wr0ng-ßecret")
    with pytest.raises(AuthFailed) as info:
        ImapSession(ep, "source").open()
    assert "Wr0ng" not in str(info.value) and info.value.side == "source"
