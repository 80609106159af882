"""The public surface of onboarding.mailsync is exactly ``__all__`` (httpx-style pin)."""

from __future__ import annotations

from support.public_api import exported_names

import onboarding.mailsync as mailsync
from onboarding.mailsync import Endpoint, MailboxPair


def test_all_matches_exports() -> None:
    assert set(mailsync.__all__) == exported_names(mailsync)
    for name in mailsync.__all__:
        assert getattr(mailsync, name).__module__.startswith("onboarding.mailsync")


def test_password_never_in_repr_or_str() -> None:
    ep = Endpoint("imap.old.example", 993, "implicit", "ann@acme.example*admin", "hunter2-secret")
    pair = MailboxPair("ann@acme.example", ep, ep)
    for text in (repr(ep), str(ep), repr(pair), pair.key):
        assert "hunter2-secret" not in text
    assert ep.account == "ann@acme.example"
