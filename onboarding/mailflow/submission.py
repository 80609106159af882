"""Send mail the way a user's client does: the hosted submission service (RFC 6409, port 587).

:func:`submit` connects, upgrades with STARTTLS (RFC 3207; refused if the server does not
offer it, or implicit TLS for port 465, RFC 8314), authenticates with ``AUTH PLAIN``
(RFC 4954, RFC 4616) and hands over one message. It raises :class:`SendFailed` with the
server's answer, never the password.

``AUTH PLAIN`` is sent by hand rather than with ``smtplib.SMTP.login``: smtplib encodes the
credentials as ASCII, so a non-ASCII password would raise a ``UnicodeEncodeError`` holding the
whole password (the same trap as IMAP LOGIN, :mod:`._login`). Here the credentials are UTF-8,
base64-encoded, as RFC 4616 says.

The TLS decision is :func:`onboarding.tls.decide_tls`'s, with ``self_signed_on_loopback``: the
lab's submission service has a self-signed certificate, any real host's is verified.
"""

from __future__ import annotations

import base64
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from onboarding.mailflow._exceptions import SendFailed, translate
from onboarding.tls import decide_tls

__all__ = ["SubmissionEndpoint", "submit"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmissionEndpoint:
    """The hosted submission service: ``tls`` is ``starttls`` (587) or ``implicit`` (465)."""

    host: str
    port: int = 587
    tls: str = "starttls"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.tls not in ("starttls", "implicit"):
            raise ValueError(f"submission tls must be starttls or implicit, got {self.tls!r}")


def _plain(login: str, password: str) -> str:
    """The RFC 4616 initial response: base64 of ``\\0login\\0password`` in UTF-8."""
    return base64.b64encode(b"\0" + login.encode() + b"\0" + password.encode()).decode("ascii")


def _authenticate(conn: smtplib.SMTP, login: str, password: str, where: str) -> None:
    offered = (conn.esmtp_features.get("auth") or "").upper().split()
    if "PLAIN" not in offered:
        raise SendFailed(
            f"{where}: the server offers no AUTH PLAIN after TLS (offered: "
            f"{' '.join(offered) or 'no AUTH at all'}); users' clients could not log in",
            address=login,
        )
    if "\0" in login or "\0" in password:
        raise SendFailed(f"{where}: the login or password contains a NUL", address=login)
    code, answer = conn.docmd("AUTH", "PLAIN " + _plain(login, password))
    if code != 235:
        text = answer.decode("utf-8", "replace").replace(password, "***")
        raise SendFailed(f"{where}: SMTP AUTH refused ({code} {text})", address=login)


def submit(
    endpoint: SubmissionEndpoint,
    login: str,
    password: str,
    message: EmailMessage,
    *,
    recipients: tuple[str, ...],
) -> None:
    """Send ``message`` to ``recipients`` as ``login`` (also the envelope sender); raise
    :class:`SendFailed` naming the stage (connect, STARTTLS, AUTH, MAIL/RCPT/DATA)."""
    if not recipients:
        raise ValueError("a submission needs at least one recipient")
    where = f"submission {endpoint.host}:{endpoint.port} as {login}"
    tls = decide_tls(endpoint.tls, endpoint.host, self_signed_on_loopback=True)
    with translate(SendFailed, where, address=login, secret=password):
        if tls.implicit:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                endpoint.host, endpoint.port, timeout=endpoint.timeout, context=tls.context
            )
        else:
            conn = smtplib.SMTP(endpoint.host, endpoint.port, timeout=endpoint.timeout)
        with conn:
            conn.ehlo()
            if not tls.implicit:
                if not conn.has_extn("starttls"):
                    raise SendFailed(
                        f"{where}: the server does not offer STARTTLS (RFC 3207); a client "
                        "would have to send the password in clear, so it is not sent",
                        address=login,
                    )
                conn.starttls(context=tls.context)
                conn.ehlo()
            _authenticate(conn, login, password, where)
            conn.send_message(message, from_addr=login, to_addrs=list(recipients))
    log.info("%s: accepted for %d recipient(s)", where, len(recipients))
