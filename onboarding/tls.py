"""How every IMAP and SMTP client of the engines secures its connection: one decision.

:func:`decide_tls` turns a TLS mode and the server's host name into a :class:`TLSDecision`:
the SSL context to use (None for plaintext), whether to wrap the socket at once (implicit
TLS, RFC 8314) or upgrade it after the greeting (STARTTLS: RFC 3501 §6.2.1 for IMAP,
RFC 3207 for SMTP), and whether a server that does not offer STARTTLS is refused. Its
callers: mailsync's own IMAP client (:mod:`onboarding.mailsync.connection`), the mail-flow
IMAP client (:mod:`onboarding.mailflow._imap`, imapclient) and the mail-flow probe's SMTP
(:mod:`onboarding.mailflow.probe`, smtplib). None of them builds an ``ssl.SSLContext`` itself.

Plaintext credentials (issue 13) are decided here too: ``none`` is allowed only to a loopback
host (:func:`is_loopback`: 127.0.0.0/8, ::1, ``localhost``), unless the caller passes
``allow_plaintext=True`` (the spec's ``allow_plaintext: true``, which every run reports
loudly). :func:`plaintext_problem` and :func:`url_problem` give the sentence the spec's
validators and the engines raise; :func:`decide_tls` raises it as a ValueError, so no client
can be built that sends a password in clear to a remote host. The ``opportunistic`` mode is
the SMTP probe's (no credentials), so it is not refused.

Certificates are verified by default (the system's trust store); ``ca_file`` names a PEM
bundle to trust instead (a customer's private CA), and ``verify=False`` (the spec's
``tls_verify: false``, for an old self-signed server) turns checking off, which every report
of such a spec names (:func:`unverified_warning`).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from typing import Literal, cast, get_args
from urllib.parse import urlsplit

__all__ = [
    "MODES",
    "PLAINTEXT_WARNING",
    "TLSDecision",
    "TLSMode",
    "decide_tls",
    "is_loopback",
    "plaintext_problem",
    "unverified_warning",
    "url_problem",
]

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


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

PLAINTEXT_WARNING = (
    "allow_plaintext is true: passwords or the API key may cross the network unencrypted "
    "(tls: none or http:// to a host that is not loopback)"
)
"""What every run of a spec with ``allow_plaintext: true`` reports, in its log and results."""


def is_loopback(host: str) -> bool:
    """True for a host that never leaves this machine: 127.0.0.0/8, ::1, ``localhost``.

    ``is_loopback("127.0.0.1")`` and ``is_loopback("[::1]")`` are True;
    ``is_loopback("imap.example")`` is False (a name may resolve anywhere).
    """
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):  # RFC 6761 §6.3
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def plaintext_problem(
    what: str, mode: str, host: str, *, allow_plaintext: bool = False
) -> str | None:
    """The sentence refusing ``mode`` ``none`` to a remote ``host``, or None when it is fine.

    ``what`` names the setting (``migration.source.tls``).
    """
    if mode != "none" or allow_plaintext or is_loopback(host):
        return None
    return (
        f"{what} is none (plaintext) for {host}, which is not a loopback host, so the password "
        "would cross the network unencrypted; use implicit or starttls, or set "
        "allow_plaintext: true in the spec to accept that (every run then warns)"
    )


def url_problem(url: str, what: str, *, allow_plaintext: bool = False) -> str | None:
    """The sentence refusing an HTTP API URL, or None: credentials in it (never repeated),
    not http(s), or plain ``http`` to a host that is not loopback."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        return f"{what} is not a usable URL; write it as https://host[:port]"
    if "@" in parts.netloc:
        return (
            f"{what} holds credentials (user:password@ before the host); remove them: the API "
            "key comes from the Secret block named by controlpanel.api_key_secret"
        )
    if parts.scheme not in ("http", "https") or not host:
        return f"{what} must be an http(s) URL such as https://admin.mailroute.net"
    if parts.scheme == "http" and not allow_plaintext and not is_loopback(host):
        return (
            f"{what} uses plain http to {host}, which is not a loopback host, so the API key "
            "would cross the network unencrypted; use https, or set allow_plaintext: true in "
            "the spec to accept that (every run then warns)"
        )
    return None


def unverified_warning(what: str, host: str) -> str:
    """The warning every report of a spec with ``tls_verify: false`` carries for ``host``.

    ``unverified_warning("migration.source", "imap.old.example")`` names the setting, the
    host and the risk.
    """
    return (
        f"{what}.tls_verify is false: the certificate of {host} is not checked, so anyone on "
        "the path can read the passwords and mail; give its CA as ca_file instead"
    )


def decide_tls(
    mode: str,
    host: str,
    *,
    verify: bool = True,
    ca_file: str | None = None,
    self_signed_on_loopback: bool = False,
    allow_plaintext: bool = False,
) -> TLSDecision:
    """Decide how a client connecting to ``host`` secures the connection in ``mode``.

    ``verify=False`` turns off certificate and host-name checks (mailsync's ``verify_tls``
    for a source server with a self-signed certificate). ``ca_file``: a PEM bundle trusted
    instead of the system's store (a private CA); a file that cannot be read as one raises
    ValueError naming it. ``self_signed_on_loopback``: a
    loopback ``host`` (the lab's submission service, whose certificate is self-signed) is not
    verified; any other host still is, so the flag can never weaken a production connection.
    Raises ValueError for a mode not in :data:`MODES` (a caller mistake), and for ``none`` to
    a host that is not loopback unless ``allow_plaintext`` (:func:`plaintext_problem`).
    """
    if mode not in MODES:
        raise ValueError(f"tls must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "none":
        problem = plaintext_problem("tls", mode, host, allow_plaintext=allow_plaintext)
        if problem:
            raise ValueError(problem)
        return TLSDecision("none", host)
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"ca_file {ca_file} cannot be read as a PEM CA bundle ({exc.strerror or exc}); "
            "give the path of the CA certificate(s) in PEM form"
        ) from None
    if not verify or (self_signed_on_loopback and is_loopback(host)):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return TLSDecision(cast(TLSMode, mode), host, context)
