"""A lab user's two mailboxes as the tests see them: filled and read back over IMAP as the
user, and the I2 equation every sync outcome must satisfy."""

from __future__ import annotations

from collections.abc import Mapping

from lab import Lab, LabUser
from onboarding.mailsync import MailboxOutcome
from support.mail import Message, connect, fill, make_message, snapshot

__all__ = [
    "append_new_mail",
    "assert_reconciled",
    "dest_snapshot",
    "fill_source",
    "source_snapshot",
]


def source_snapshot(lab: Lab, user: LabUser) -> dict[str, list[Message]]:
    """Every folder of the user's old mailbox, read as the user (see :func:`snapshot`)."""
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        return snapshot(c)


def dest_snapshot(lab: Lab, user: LabUser) -> dict[str, list[Message]]:
    """Every folder of the user's hosted mailbox, read as the user (see :func:`snapshot`)."""
    with connect(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    ) as c:
        return snapshot(c)


def fill_source(
    lab: Lab,
    user: LabUser,
    folders: Mapping[str, int],
    *,
    seed: int = 0,
    big: Mapping[str, int] | None = None,
) -> int:
    """Fill the user's old mailbox (see :func:`fill`); returns how many messages it added."""
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        return fill(c, folders, seed=seed, big=big)


def append_new_mail(lab: Lab, user: LabUser) -> None:
    """Two new INBOX messages in the user's old mailbox, the second without a Message-ID."""
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        c.append("INBOX", make_message(900, seed=7))
        c.append("INBOX", make_message(901, seed=7, message_id=False))


def assert_reconciled(out: MailboxOutcome) -> None:
    """I2: in scope = copied + already present + source duplicates + skipped + failed."""
    assert out.reconciles, out.folders
    assert out.in_scope == (
        out.copied + out.already_present + out.source_duplicates + out.skipped + out.failed
    )
