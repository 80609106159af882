"""Can every user log in to the hosted IMAP, and what does their INBOX hold?

:func:`check_accounts` logs in as each user (``concurrency`` at a time), asks ``STATUS INBOX
(MESSAGES)`` and logs out. It never raises: each result is ok with the message count, or the
reason in words (the server's answer with the password masked, or the network error).

This is the one "can this account log in" path: verify counts INBOXes with it, and
provisioning's login proof (``AccountsReport.with_logins``) is derived from its results.
A non-ASCII password logs in with AUTHENTICATE PLAIN (see :mod:`._login`). ``connect=`` is
the I/O seam (default :func:`~onboarding.mailflow._imap.connect_imap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Protocol, TypeVar

from pydantic import SecretStr

from onboarding.mailflow._exceptions import MailboxFailed, MailFlowError, translate
from onboarding.mailflow._imap import ImapConnect, ImapEndpoint, connect_imap, session
from onboarding.reports import report_row

__all__ = ["AccountCheck", "Login", "check_account", "check_accounts", "first_working"]


class Login(Protocol):
    """An address and its hosted password (``validation.users.UserCredentials`` fits)."""

    @property
    def email(self) -> str: ...

    @property
    def password(self) -> SecretStr: ...


L = TypeVar("L", bound=Login)


@report_row
@dataclass(frozen=True)
class AccountCheck:
    """One account: ``ok`` with its INBOX message count, or the reason it failed."""

    email: str
    ok: bool
    messages: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_account(
    imap: ImapEndpoint, login: Login, *, connect: ImapConnect = connect_imap
) -> AccountCheck:
    """Log in as ``login``, count its INBOX, log out; never raises."""
    password = login.password.get_secret_value()
    try:
        with (
            session(imap, login.email, password, connect=connect) as client,
            translate(MailboxFailed, "STATUS INBOX", address=login.email, secret=password),
        ):
            status = client.folder_status("INBOX", [b"MESSAGES"])
    except MailFlowError as exc:
        return AccountCheck(login.email, False, error=str(exc))
    return AccountCheck(login.email, True, messages=int(status[b"MESSAGES"]))


def check_accounts(
    imap: ImapEndpoint,
    logins: Sequence[Login],
    *,
    concurrency: int = 8,
    connect: ImapConnect = connect_imap,
) -> tuple[AccountCheck, ...]:
    """Check every login (``concurrency`` at a time), results in the order given."""
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="account-check") as pool:
        return tuple(pool.map(lambda login: check_account(imap, login, connect=connect), logins))


def first_working(
    imap: ImapEndpoint, logins: Sequence[L], *, tries: int = 5, connect: ImapConnect = connect_imap
) -> tuple[L | None, str | None]:
    """The first of ``logins`` (at most ``tries``) that can log in, else None and why not.

    A probe needs a mailbox it can read; one broken account must not make mail flow look
    broken for its whole domain (the login check reports that account by itself).
    """
    reason = "no user of this domain in the user list"
    for login in logins[:tries]:
        check = check_account(imap, login, connect=connect)
        if check.ok:
            return login, None
        reason = f"no mailbox of this domain to probe logs in (last: {check.error})"
    return None, reason
