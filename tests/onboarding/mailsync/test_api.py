"""The public surface of onboarding.mailsync is exactly ``__all__`` (httpx-style pin)."""

from __future__ import annotations

from support.public_api import exported_names

import onboarding.mailsync as mailsync
from onboarding.mailsync import Endpoint, MailboxPair, pair_key


def test_all_matches_exports() -> None:
    """The package exports exactly its ``__all__``, and every exported name is defined inside
    onboarding.mailsync."""
    assert set(mailsync.__all__) == exported_names(mailsync)
    for name in mailsync.__all__:
        assert getattr(mailsync, name).__module__.startswith("onboarding.mailsync")


def test_password_never_in_repr_or_str() -> None:
    """An endpoint's password is in neither the repr nor str of the endpoint or its pair, nor in the
    pair's key; the account is the login without the master-user suffix."""
    ep = Endpoint("imap.old.example", 993, "implicit", "ann@acme.example*admin", "hunter2-secret")
    pair = MailboxPair("ann@acme.example", ep, ep)
    for text in (repr(ep), str(ep), repr(pair), pair.key):
        assert "hunter2-secret" not in text
    assert ep.account == "ann@acme.example"


def test_pair_key_is_the_pair_key_from_non_secret_fields() -> None:
    """``pair_key`` gives ``MailboxPair.key`` from hosts, ports and accounts, no password."""
    src = Endpoint("imap.old.example", 993, "implicit", "ann@acme.example*admin", "hunter2-secret")
    dst = Endpoint("127.0.0.1", 1143, "none", "ann@acme.example", "other-secret")
    key = pair_key(
        source_host="imap.old.example",
        source_port=993,
        source_account="ann@acme.example",
        destination_host="127.0.0.1",
        destination_port=1143,
        destination_account="ann@acme.example",
    )
    assert key == MailboxPair("ann@acme.example", src, dst).key
    assert key == "imap.old.example:993/ann@acme.example=>127.0.0.1:1143/ann@acme.example"
