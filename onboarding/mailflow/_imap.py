"""Open an authenticated IMAP session on the hosted mailboxes (implicit TLS, STARTTLS or none).

:func:`connect_imap` is the default connect factory: the one place this engine opens an IMAP
connection, securing it as :func:`onboarding.tls.decide_tls` says. Every function that logs in
takes ``connect=`` so tests and callers can put another factory in its place (STYLE.md 11).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imapclient import IMAPClient

from onboarding.mailflow._exceptions import MailboxFailed, translate
from onboarding.mailflow._login import log_in
from onboarding.tls import decide_tls

__all__ = ["ImapConnect", "ImapEndpoint", "connect_imap", "session"]


@dataclass(frozen=True)
class ImapEndpoint:
    """Where the hosted mailboxes answer IMAP; ``tls`` is ``implicit``, ``starttls`` or ``none``."""

    host: str
    port: int
    tls: str = "implicit"
    timeout: float = 10.0
    allow_plaintext: bool = False  # tls none to a host that is not loopback (onboarding.tls)

    def __post_init__(self) -> None:
        if self.tls not in ("implicit", "starttls", "none"):
            raise ValueError(f"tls must be implicit, starttls or none, got {self.tls!r}")


ImapConnect = Callable[[ImapEndpoint], IMAPClient]
"""A connect factory: returns a connected client that has not logged in yet."""


def connect_imap(endpoint: ImapEndpoint) -> IMAPClient:
    """Connect to ``endpoint`` and secure the connection; foreign errors propagate (the
    caller translates them)."""
    tls = decide_tls(endpoint.tls, endpoint.host, allow_plaintext=endpoint.allow_plaintext)
    client = IMAPClient(
        endpoint.host,
        port=endpoint.port,
        ssl=tls.implicit,
        ssl_context=tls.context if tls.implicit else None,
        timeout=endpoint.timeout,
    )
    if tls.starttls:
        client.starttls(tls.context)
    return client


@contextmanager
def session(
    endpoint: ImapEndpoint, email: str, password: str, *, connect: ImapConnect = connect_imap
) -> Iterator[IMAPClient]:
    """Yield a client logged in as ``email``; raise :class:`MailboxFailed` (no password in it)."""
    where = f"IMAP {endpoint.host}:{endpoint.port} as {email}"
    with translate(MailboxFailed, f"cannot open {where}", address=email, secret=password):
        client = connect(endpoint)
    try:
        log_in(client, email, password, where=where)
        yield client
    finally:
        with contextlib.suppress(Exception):  # logging out of a dead connection is no news
            client.logout()
