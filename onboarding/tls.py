"""How every IMAP and SMTP client of the engines secures its connection: one decision.

:func:`decide_tls` turns a TLS mode and the server's host name into a :class:`TLSDecision`:
the SSL context to use (None for plaintext), whether to wrap the socket at once (implicit
TLS, RFC 8314) or upgrade it after the greeting (STARTTLS: RFC 3501 §6.2.1 for IMAP,
RFC 3207 for SMTP), and whether a server that does not offer STARTTLS is refused. Its
callers: mailsync's own IMAP client (:mod:`onboarding.mailsync.connection`), the mail-flow
IMAP client (:mod:`onboarding.mailflow._imap`, imapclient) and the mail-flow probe's SMTP
(:mod:`onboarding.mailflow.probe`, smtplib). None of them builds an ``ssl.SSLContext`` itself.

This is the one place for what is to come (issue 13): a CA bundle per server (a ``cafile=``
keyword feeding ``create_default_context``), an explicit, reported ``verify=False``, and the
refusal of plaintext (``none``, or an ``opportunistic`` upgrade the server does not offer) to a
host that is not loopback.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

__all__ = ["MODES", "TLSDecision", "TLSMode", "decide_tls", "is_loopback"]

TLSMode = Literal["implicit", "starttls", "opportunistic", "none"]
"""``implicit``: TLS from the first byte (993/465); ``starttls``: upgrade after the greeting,
refused if not offered; ``opportunistic``: upgrade when the server offers it, else plaintext
(SMTP to the gateway); ``none``: plaintext (lab and trusted networks)."""

MODES: tuple[str, ...] = get_args(TLSMode)


@dataclass(frozen=True)
class TLSDecision:
    """How one connection to ``host`` is secured; ``context`` is None exactly for ``none``.

    ``decide_tls("starttls", "imap.example")`` gives ``implicit=False``, ``starttls=True``,
    ``starttls_required=True`` and a verifying context for ``imap.example``.
    """

    mode: TLSMode
    host: str
    context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @property
    def implicit(self) -> bool:
        """Wrap the socket before the server's greeting (implicit TLS, RFC 8314 §3)."""
        return self.mode == "implicit"

    @property
    def starttls(self) -> bool:
        """Upgrade the connection with STARTTLS after the greeting, if the mode asks for it."""
        return self.mode in ("starttls", "opportunistic")

    @property
    def starttls_required(self) -> bool:
        """A server that does not offer STARTTLS is refused (rather than spoken to in clear)."""
        return self.mode == "starttls"

    def wrap(self, sock: socket.socket) -> ssl.SSLSocket:
        """Return ``sock`` wrapped for ``host``; ssl/OS errors are the caller's to translate."""
        if self.context is None:
            raise ValueError(f"tls mode {self.mode!r} has no TLS to wrap a socket in")
        return self.context.wrap_socket(sock, server_hostname=self.host)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): the lab's hosts."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def decide_tls(
    mode: str, host: str, *, verify: bool = True, self_signed_on_loopback: bool = False
) -> TLSDecision:
    """Decide how a client connecting to ``host`` secures the connection in ``mode``.

    ``verify=False`` turns off certificate and host-name checks (mailsync's ``verify_tls``
    for a source server with a self-signed certificate). ``self_signed_on_loopback``: a
    loopback ``host`` (the lab's submission service, whose certificate is self-signed) is not
    verified; any other host still is, so the flag can never weaken a production connection.
    Raises ValueError for a mode not in :data:`MODES` (a caller mistake).
    """
    if mode not in MODES:
        raise ValueError(f"tls must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "none":
        return TLSDecision("none", host)
    context = ssl.create_default_context()
    if not verify or (self_signed_on_loopback and is_loopback(host)):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return TLSDecision(cast(TLSMode, mode), host, context)
