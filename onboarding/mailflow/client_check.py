"""Test accounts: does an account work the way the user's mail client will use it?

Before the cutover asks for approval, each test account is proven end to end on the hosted
service: an IMAP login, an authenticated send through the submission service (587, STARTTLS,
AUTH) of a tagged message to itself, and that message's arrival in its hosted INBOX (found by
its ``X-MailRoute-Probe`` tag and removed again, like every probe). The hosted service is
authoritative for its mailboxes, so this works before the domain's MX or routing moves.

:func:`check_client_account` never raises: a failure is the :class:`ClientCheck`'s ``stage``
(``imap``, ``submission`` or ``receipt``) and ``error`` (the server's answer, no password).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Literal

from onboarding.mailflow._exceptions import MailFlowError
from onboarding.mailflow._imap import ImapConnect, ImapEndpoint, connect_imap
from onboarding.mailflow.accounts import Login, check_account
from onboarding.mailflow.probe import find_probe, new_tag, tagged_message
from onboarding.mailflow.submission import SubmissionEndpoint, submit
from onboarding.reports import report_row

__all__ = ["CLIENT_CHECK_COLUMNS", "ClientCheck", "check_client_account", "check_client_accounts"]

Stage = Literal["imap", "submission", "receipt"]
CLIENT_CHECK_COLUMNS = ("email", "ok", "stage", "seconds", "error")


@report_row
@dataclass(frozen=True)
class ClientCheck:
    """One test account: ``ok``, or the ``stage`` that failed and why."""

    email: str
    ok: bool
    stage: Stage | None = None
    seconds: float | None = None
    error: str | None = None

    @property
    def reason(self) -> str:
        """One line for a person: ``ann@acme.test: submission: SMTP AUTH refused (535 ...)``."""
        if self.ok:
            return f"{self.email}: works (IMAP login, send on submission, receipt)"
        return f"{self.email}: {self.stage}: {self.error}"

    def to_dict(self) -> dict[str, object]:
        seconds = None if self.seconds is None else round(self.seconds, 2)
        return {**asdict(self), "seconds": seconds}


def _test_message(email: str, tag: str) -> EmailMessage:
    return tagged_message(
        sender=email,
        recipient=email,
        subject="test of your new mail account",
        tag=tag,
        now=datetime.now(UTC),
        text="An automatic test from MailRoute onboarding: this account sent this message to "
        "itself through the hosted submission service. It is removed automatically once found.\n",
    )


def check_client_account(
    imap: ImapEndpoint,
    submission: SubmissionEndpoint,
    login: Login,
    *,
    timeout: float,
    connect: ImapConnect = connect_imap,
) -> ClientCheck:
    """IMAP login, authenticated send to itself, receipt within ``timeout``; never raises."""
    started = time.monotonic()
    email = login.email
    password = login.password.get_secret_value()
    account = check_account(imap, login, connect=connect)
    if not account.ok:
        return ClientCheck(email, False, "imap", error=account.error)
    tag = new_tag("account-test")
    try:
        submit(submission, email, password, _test_message(email, tag), recipients=(email,))
    except MailFlowError as exc:
        return ClientCheck(email, False, "submission", error=str(exc))
    try:
        found = find_probe(imap, email, password, tag, timeout=timeout)
    except MailFlowError as exc:
        return ClientCheck(email, False, "receipt", error=str(exc))
    seconds = time.monotonic() - started
    if not found:
        why = f"the message sent to itself was not in its INBOX within {timeout:g} s"
        return ClientCheck(email, False, "receipt", seconds, error=why)
    return ClientCheck(email, True, seconds=seconds)


def check_client_accounts(
    imap: ImapEndpoint,
    submission: SubmissionEndpoint,
    logins: Sequence[Login],
    *,
    timeout: float,
    connect: ImapConnect = connect_imap,
) -> tuple[ClientCheck, ...]:
    """:func:`check_client_account` for each login, in order; never raises."""
    return tuple(
        check_client_account(imap, submission, login, timeout=timeout, connect=connect)
        for login in logins
    )
