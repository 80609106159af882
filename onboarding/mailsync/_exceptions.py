"""Errors the mail-sync engine raises, and the translation of foreign ones at its boundary.

The tree (``transient`` classes are worth a retry by the task layer)::

    OnboardingError
    └── MailSyncError
        ├── TransientSyncError      (transient = True)
        │   ├── ConnectFailed       TCP connect refused / unreachable / DNS failure
        │   ├── ConnectionLost      the connection dropped or timed out mid-session
        │   │   └── ResponseTooLarge  the server announced a literal over the cap (closed)
        │   ├── Throttled           the server asked us to back off (BYE, "Suggested Backoff Time")
        │   └── StateLocked         another sync of the same mailbox pair holds the lease (I10)
        ├── TLSFailed               TLS handshake / certificate / STARTTLS failure
        ├── AuthFailed              the server refused the login
        ├── IMAPDisabled            the account exists but IMAP access is switched off
        ├── ProtocolError           the server answered something we cannot use
        ├── FolderMapError          a source folder has no safe destination name
        └── StateError              the state store cannot be read or written

No imaplib, imapclient, socket or ssl exception leaves the engine: :func:`translate` maps them
with the table :data:`FOREIGN_MAP` (most specific class first).
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import imapclient.exceptions as imapclient_exc

from onboarding._exceptions import OnboardingError

__all__ = [
    "FOREIGN_MAP",
    "AuthFailed",
    "ConnectFailed",
    "ConnectionLost",
    "FolderMapError",
    "IMAPDisabled",
    "MailSyncError",
    "ProtocolError",
    "ResponseTooLarge",
    "StateError",
    "StateLocked",
    "TLSFailed",
    "Throttled",
    "TransientSyncError",
    "translate",
    "translating",
]


class MailSyncError(OnboardingError):
    """Raised when a mailbox pair cannot be synced; ``fix`` says what the operator can do."""

    transient: bool = False
    default_fix: str = "see the server response"

    def __init__(
        self,
        message: str,
        *,
        side: str | None = None,
        host: str | None = None,
        mailbox: str | None = None,
        response: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.side = side
        self.host = host
        self.mailbox = mailbox
        self.response = response
        self.fix = fix or self.default_fix
        where = " ".join(p for p in (side, host) if p)
        text = f"{where}: {message}" if where else message
        super().__init__(f"{text} (fix: {self.fix})")


class TransientSyncError(MailSyncError):
    """Raised for failures that a later attempt may not hit (network, throttling, a lease)."""

    transient = True
    default_fix = "retry later; the sync resumes where it stopped"


class ConnectFailed(TransientSyncError):
    """Raised when no TCP connection to the IMAP server could be opened."""

    default_fix = "check host and port, and that the server accepts connections from here"


class ConnectionLost(TransientSyncError):
    """Raised when an established connection dropped or stopped answering."""


class ResponseTooLarge(ConnectionLost):
    """Raised when a server announces a literal over the cap; the connection is closed.

    ``claimed`` is the announced size, ``cap`` the limit and ``line`` the response line that
    announced it (``* 3 FETCH (UID 7 BODY[] {50000000000}``), so the message can be named.
    """

    default_fix = "the server announced an impossible size: repair the message on the server"

    def __init__(
        self, message: str, *, claimed: int, cap: int, line: bytes, **kwargs: str | None
    ) -> None:
        self.claimed = claimed
        self.cap = cap
        self.line = line
        super().__init__(message, **kwargs)


class Throttled(TransientSyncError):
    """Raised when the server asks the client to back off for ``backoff_seconds``."""

    def __init__(self, message: str, *, backoff_seconds: float, **kwargs: str | None) -> None:
        self.backoff_seconds = backoff_seconds
        super().__init__(message, **kwargs)


class StateLocked(TransientSyncError):
    """Raised when another sync of the same mailbox pair holds the pair's lease (I10)."""

    default_fix = "wait for the other sync of this mailbox to finish; its lease expires if it died"


class TLSFailed(MailSyncError):
    """Raised when TLS (implicit or STARTTLS) cannot be established or verified."""

    default_fix = "check the tls mode (implicit on 993, starttls on 143) and the server certificate"


class AuthFailed(MailSyncError):
    """Raised when the server rejects the login."""

    default_fix = (
        "check the login and password (for a master login use user@domain*admin and the "
        "master password)"
    )


class IMAPDisabled(MailSyncError):
    """Raised when the login is accepted in principle but IMAP is switched off for the account."""

    default_fix = "enable IMAP access for this account in the source/destination admin console"


class ProtocolError(MailSyncError):
    """Raised when the server answers with something the engine cannot use."""


class FolderMapError(MailSyncError):
    """Raised when the folder map has errors (names that cannot be mapped safely)."""

    default_fix = "add folder_renames or exclude_folders entries for the folders listed"


class StateError(MailSyncError):
    """Raised when the state store cannot be read or written."""

    default_fix = "check the state store URL and that the database is reachable and writable"


# Order matters: the first matching class wins, so subclasses come before their bases.
FOREIGN_MAP: tuple[tuple[type[BaseException], type[MailSyncError]], ...] = (
    (imapclient_exc.LoginError, AuthFailed),
    (imapclient_exc.IllegalStateError, ProtocolError),
    (imapclient_exc.CapabilityError, ProtocolError),
    (imapclient_exc.InvalidCriteriaError, ProtocolError),
    (imapclient_exc.ProtocolError, ProtocolError),
    (imaplib.IMAP4.readonly, ProtocolError),
    (imaplib.IMAP4.abort, ConnectionLost),
    (imaplib.IMAP4.error, ProtocolError),
    (ssl.SSLCertVerificationError, TLSFailed),
    (ssl.SSLError, TLSFailed),
    (ssl.CertificateError, TLSFailed),
    (socket.gaierror, ConnectFailed),
    (ConnectionRefusedError, ConnectFailed),
    (TimeoutError, ConnectionLost),
    (ConnectionResetError, ConnectionLost),
    (ConnectionAbortedError, ConnectionLost),
    (BrokenPipeError, ConnectionLost),
    (EOFError, ConnectionLost),
    (OSError, ConnectionLost),
)


def translate(exc: BaseException, **context: str | None) -> MailSyncError:
    """Return the engine error for a foreign exception (``exc`` itself if already ours)."""
    if isinstance(exc, MailSyncError):
        return exc
    for foreign, ours in FOREIGN_MAP:
        if isinstance(exc, foreign):
            return ours(f"{type(exc).__name__}: {exc}", **context)
    return ProtocolError(f"{type(exc).__name__}: {exc}", **context)


@contextmanager
def translating(**context: str | None) -> Iterator[None]:
    """Translate foreign exceptions raised inside the block (``raise ... from exc``)."""
    try:
        yield
    except MailSyncError:
        raise
    except (OSError, EOFError, imaplib.IMAP4.error, imapclient_exc.IMAPClientError) as exc:
        raise translate(exc, **context) from exc
