"""Errors of the mail-flow engine, and the translation of foreign ones at its boundary.

The tree::

    OnboardingError
    └── MailFlowError
        ├── SendFailed        the gateway refused the probe or could not be reached (SMTP)
        └── MailboxFailed     the hosted mailbox could not be opened or searched (IMAP)

No smtplib, imaplib, imapclient, socket or ssl exception leaves the engine: :func:`translate`
maps them with :data:`FOREIGN_MAP` (most specific class first). Messages never carry a
password: the IMAP server's own answer is quoted with the password masked (:func:`redact`).
The login itself is translated by :mod:`._login`, which also leaves no foreign error in the
chain, since an encoding error there holds the whole password (issue 13).
"""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import imapclient.exceptions as imapclient_exc

from onboarding._exceptions import OnboardingError
from onboarding.redact import redact as redact_text

__all__ = [
    "FOREIGN_MAP",
    "MailFlowError",
    "MailboxFailed",
    "SendFailed",
    "describe",
    "redact",
    "translate",
]


class MailFlowError(OnboardingError):
    """Raised when a mail-flow probe or an account check cannot be carried out."""

    def __init__(self, message: str, *, address: str | None = None) -> None:
        super().__init__(message)
        self.address = address


class SendFailed(MailFlowError):
    """Raised when the gateway refuses the probe message or cannot be reached over SMTP."""


class MailboxFailed(MailFlowError):
    """Raised when the hosted mailbox refuses the login or cannot be searched over IMAP."""


# (foreign class, what it means); the first matching entry wins.
FOREIGN_MAP: tuple[tuple[type[BaseException], str], ...] = (
    (smtplib.SMTPRecipientsRefused, "the gateway refused the recipient"),
    (smtplib.SMTPSenderRefused, "the gateway refused the sender"),
    (smtplib.SMTPDataError, "the gateway refused the message"),
    (smtplib.SMTPServerDisconnected, "the SMTP connection closed"),
    (smtplib.SMTPException, "SMTP error"),
    (imapclient_exc.LoginError, "login refused"),
    (imaplib.IMAP4.abort, "the IMAP connection dropped"),
    (imaplib.IMAP4.error, "IMAP error"),
    (ssl.SSLError, "TLS failure"),
    (TimeoutError, "timed out"),
    (socket.gaierror, "host name not found"),
    (ConnectionRefusedError, "connection refused"),
    (OSError, "network error"),
)


def redact(text: str, secret: str | None) -> str:
    """Return ``text`` with ``secret`` masked as ``***``, also in the escaped forms a repr of
    the string or of its UTF-8 bytes shows (``Gr\\xfcner``, ``Gr\\xc3\\xbcner``)."""
    return redact_text(text, secret)


def describe(exc: BaseException, secret: str | None = None) -> str:
    """Return ``<meaning>: <detail>`` for a foreign exception, with ``secret`` masked."""
    meaning = next((m for cls, m in FOREIGN_MAP if isinstance(exc, cls)), type(exc).__name__)
    detail = redact(str(exc), secret)
    return f"{meaning}: {detail}" if detail else meaning


@contextmanager
def translate(
    kind: type[MailFlowError], what: str, *, address: str | None = None, secret: str | None = None
) -> Iterator[None]:
    """Re-raise any mapped foreign exception as ``kind`` naming ``what`` was being done."""
    foreign = tuple(cls for cls, _ in FOREIGN_MAP)
    try:
        yield
    except foreign as exc:
        raise kind(f"{what}: {describe(exc, secret)}", address=address) from None
