"""Lab account records (pure rendering and the file store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab._accounts import Account, AccountStore, parse_records, render_records


def test_limits_round_trip_as_userdb_fields() -> None:
    """Quota and size limits become Dovecot userdb fields and parse back unchanged."""
    account = Account("a@b.test", "{pw}", quota_bytes=1000, max_message_bytes=500)
    passdb, userdb = render_records(account)
    assert passdb == {"password": "{PLAIN}{pw}"}  # a leading "{" is not taken as a scheme
    assert userdb == {
        "quota_rule": "*:storage=1000B",
        "quota_max_mail_size": "500B",
        "imap_capability": "+APPENDLIMIT=500",
    }
    assert parse_records("a@b.test", passdb, userdb) == account


@pytest.mark.parametrize(
    ("email", "password"),
    [("a/b@c.test", "pw"), ("a b@c.test", "pw"), ("nodomain", "pw"), ("a@c.test", "")],
)
def test_values_that_break_the_store_are_refused(email: str, password: str) -> None:
    """A '/' would escape the store folder; an empty password would lock the user out."""
    with pytest.raises(ValueError):
        render_records(Account(email, password))


def test_store_put_get_remove(tmp_path: Path) -> None:
    """Emails are case-insensitive keys; remove reports whether the account existed."""
    store = AccountStore(tmp_path)
    store.put(Account("Ann@B.test", "pw1", quota_bytes=10))
    store.put(Account("ann@b.test", "pw2"))
    assert store.accounts() == {"ann@b.test": Account("ann@b.test", "pw2")}
    assert store.remove("ANN@b.test")
    assert not store.remove("ann@b.test")
    assert store.get("ann@b.test") is None
