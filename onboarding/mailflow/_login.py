"""Log in to IMAP so that the password can never leave in an exception.

``LOGIN`` (RFC 3501 §6.2.3) is used when the address and the password are printable ASCII.
Otherwise imaplib, under imapclient, would encode the command as ASCII and raise a
``UnicodeEncodeError`` whose ``args`` hold the whole password (issue 13), so a non-ASCII (or
control-character) login goes as ``AUTHENTICATE PLAIN`` (RFC 4616), whose message is UTF-8
and travels base64-encoded. The server must offer ``AUTH=PLAIN`` for that (RFC 3501 §6.2.2).

Every exception raised while logging in is translated here into :class:`MailboxFailed`,
raised outside the ``except`` block and ``from None``, so neither its message, its ``args``
nor its ``__cause__``/``__context__`` can hold the foreign error or the password.
"""

from __future__ import annotations

from typing import Protocol

from onboarding.mailflow._exceptions import FOREIGN_MAP, MailboxFailed, MailFlowError, describe
from onboarding.redact import needs_plain

__all__ = ["log_in", "needs_plain"]


class _Client(Protocol):
    """What logging in needs of an :class:`imapclient.IMAPClient`."""

    def login(self, username: str, password: str) -> object: ...

    def plain_login(self, identity: str, password: str) -> object: ...

    def has_capability(self, capability: str) -> bool: ...


def _failure(exc: Exception, where: str, email: str, password: str) -> MailboxFailed:
    """The engine's error for a failed login: the server's answer (password masked) for a
    mapped IMAP/network error, only the error's class for anything else."""
    if isinstance(exc, tuple(cls for cls, _ in FOREIGN_MAP)):
        return MailboxFailed(f"{where}: {describe(exc, password)}", address=email)
    # An encoding error (or anything unforeseen) may quote the login itself: no detail.
    return MailboxFailed(
        f"{where}: the login could not be sent ({type(exc).__name__})", address=email
    )


def log_in(client: _Client, email: str, password: str, *, where: str) -> None:
    """Log ``client`` in as ``email``; raise :class:`MailboxFailed`, never a foreign error.

    ``where`` names the server and account in the error (``IMAP host:993 as ann@acme.test``).
    """
    failure: MailboxFailed | None = None
    try:
        if not needs_plain(email, password):
            client.login(email, password)
        elif "\0" in email or "\0" in password:
            failure = MailboxFailed(
                f"{where}: the address or password contains a NUL character, which no IMAP "
                "login can carry (RFC 4616 §2); set another password",
                address=email,
            )
        elif not client.has_capability("AUTH=PLAIN"):
            failure = MailboxFailed(
                f"{where}: the server does not offer AUTHENTICATE PLAIN (RFC 4616), which a "
                "password or address with non-ASCII characters needs; use an ASCII password "
                "or enable the PLAIN mechanism on the server",
                address=email,
            )
        else:
            client.plain_login(email, password)
    except MailFlowError:
        raise
    except Exception as exc:
        failure = _failure(exc, where, email, password)
    if failure is not None:
        raise failure from None
