"""Lab records that hold a password keep it out of ``repr()``.

A lab object that lands in a log line, an assertion message or an exception must not print the
mailbox password it carries (the same rule ``mailsync.Endpoint`` follows).
"""

from __future__ import annotations

import pytest

from lab import Account, LabUser, SeedReport
from lab.controlpanel._effects import AccountLogin
from lab.corpus import MailboxSpec

SECRET = "s3cret-not-in-repr"

HOLDERS = [
    Account("a@example.test", SECRET, quota_bytes=1024),
    LabUser("a@example.test", SECRET, SECRET),
    SeedReport("small", 7, {"a@example.test": {"INBOX": 1}}, {"a@example.test": SECRET}),
    MailboxSpec("a@example.test", SECRET, "plain", ()),
    AccountLogin("a@example.test", SECRET, f"{{SHA512-CRYPT}}{SECRET}"),
]


@pytest.mark.parametrize("holder", HOLDERS, ids=lambda h: type(h).__name__)
def test_repr_omits_password(holder: object) -> None:
    """repr() of a lab object that holds a password names the object but never the password."""
    text = repr(holder)
    assert type(holder).__name__ in text
    assert "a@example.test" in text
    assert SECRET not in text
