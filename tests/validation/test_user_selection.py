"""``--users`` picks from the validated list: addresses compare trimmed and case-insensitively,
and an address that is not in the list is an error naming it (and the CSV)."""

from __future__ import annotations

from pathlib import Path

import pytest

from validation.users import UserSelectionError, ValidatedUser, select_users

CSV = Path("users.csv")


def _user(email: str) -> ValidatedUser:
    local, _, domain = email.partition("@")
    return ValidatedUser(row=2, email=email, local_part=local, domain=domain)


def test_select_users_names_unknown_addresses() -> None:
    """--users with an address that is not in the CSV is an error naming it."""
    users = [_user("ann@acme.test"), _user("bob@acme.test")]
    assert [u.email for u in select_users(users, ["BOB@acme.test "], path=CSV)] == ["bob@acme.test"]
    assert len(select_users(users, None, path=CSV)) == 2
    with pytest.raises(UserSelectionError, match=r"zed@acme\.test not in the user list"):
        select_users(users, ["ann@acme.test", "zed@acme.test"], path=CSV)
    with pytest.raises(UserSelectionError, match="no address"):
        select_users(users, [" "], path=CSV)
