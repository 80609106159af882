"""Open an authenticated IMAP session on the hosted mailboxes (implicit TLS, STARTTLS or none).

One overridable factory (``connect``) is the test seam and the only place TLS is decided.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imapclient import IMAPClient

from onboarding.mailflow._exceptions import MailboxFailed, translate

__all__ = ["ImapEndpoint", "session"]


@dataclass(frozen=True)
class ImapEndpoint:
    """Where the hosted mailboxes answer IMAP; ``tls`` is ``implicit``, ``starttls`` or ``none``."""

    host: str
    port: int
    tls: str = "implicit"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.tls not in ("implicit", "starttls", "none"):
            raise ValueError(f"tls must be implicit, starttls or none, got {self.tls!r}")


def _open(endpoint: ImapEndpoint) -> IMAPClient:
    context = ssl.create_default_context()
    client = IMAPClient(
        endpoint.host,
        port=endpoint.port,
        ssl=endpoint.tls == "implicit",
        ssl_context=context if endpoint.tls == "implicit" else None,
        timeout=endpoint.timeout,
    )
    if endpoint.tls == "starttls":
        client.starttls(context)
    return client


@contextmanager
def session(endpoint: ImapEndpoint, email: str, password: str) -> Iterator[IMAPClient]:
    """Yield a client logged in as ``email``; raise :class:`MailboxFailed` (password masked)."""
    where = f"IMAP {endpoint.host}:{endpoint.port} as {email}"
    with translate(MailboxFailed, f"cannot open {where}", address=email, secret=password):
        client = _open(endpoint)
    try:
        with translate(MailboxFailed, f"{where}", address=email, secret=password):
            client.login(email, password)
        yield client
    finally:
        with contextlib.suppress(Exception):  # logging out of a dead connection is no news
            client.logout()
