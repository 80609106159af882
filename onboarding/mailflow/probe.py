"""The mail-flow probe: does mail sent to a domain reach its hosted mailbox?

A probe is one uniquely tagged message sent through the gateway's SMTP to an address of the
domain, then looked for by its tag (header ``X-MailRoute-Probe``) over IMAP in that address's
hosted INBOX until a deadline. Found probes are removed again (``UID EXPUNGE`` of probe
messages only, RFC 4315), with any probe an interrupted run left behind, so users do not keep
test mail.

Two levels (style rule 8): :func:`send_probe` / :func:`find_probe` raise
:class:`MailFlowError`; :func:`check_mail_flow` and :func:`await_probe` never raise and fold
any failure into the :class:`ProbeResult`. The cutover sends a probe while delivery is held
and awaits it after the release: its arrival shows the held queue was delivered.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from imapclient import IMAPClient

from onboarding.mailflow._exceptions import MailboxFailed, MailFlowError, SendFailed, translate
from onboarding.mailflow._imap import ImapEndpoint, session

__all__ = [
    "PROBE_HEADER",
    "ProbeMessage",
    "ProbeResult",
    "SmtpEndpoint",
    "await_probe",
    "check_mail_flow",
    "find_probe",
    "new_tag",
    "send_probe",
]

log = logging.getLogger(__name__)

PROBE_HEADER = "X-MailRoute-Probe"


@dataclass(frozen=True)
class SmtpEndpoint:
    """The gateway's SMTP; STARTTLS is used whenever the server offers it."""

    host: str
    port: int = 25
    timeout: float = 30.0


@dataclass(frozen=True)
class ProbeMessage:
    """A probe that was accepted by the gateway (nothing secret)."""

    domain: str
    recipient: str
    tag: str
    sent_at: datetime


@dataclass(frozen=True)
class ProbeResult:
    """One domain's probe: ``delivered`` with the time it took, or the reason it was not."""

    domain: str
    recipient: str | None
    tag: str | None
    delivered: bool
    seconds: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "recipient": self.recipient,
            "tag": self.tag,
            "delivered": self.delivered,
            "seconds": None if self.seconds is None else round(self.seconds, 2),
            "error": self.error,
        }


def new_tag(purpose: str = "probe") -> str:
    """Return a tag no other probe uses: ``<purpose>-<UTC time>-<random>``."""
    return f"{purpose}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(6)}"


def _message(recipient: str, tag: str, now: datetime) -> EmailMessage:
    domain = recipient.rsplit("@", 1)[1]
    msg = EmailMessage()
    msg["From"] = f"MailRoute onboarding <mailroute-probe@{domain}>"
    msg["To"] = recipient
    msg["Subject"] = f"[MailRoute] mail-flow check {tag}"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(idstring=tag, domain="mailroute-onboarding.invalid")
    msg[PROBE_HEADER] = tag
    msg.set_content(
        "An automatic test message from MailRoute onboarding, checking that mail reaches "
        "this mailbox. It is removed automatically once found; you may delete it.\n"
    )
    return msg


def send_probe(smtp: SmtpEndpoint, recipient: str, *, tag: str | None = None) -> ProbeMessage:
    """Send one tagged probe to ``recipient`` through the gateway; raise :class:`SendFailed`."""
    if "@" not in recipient:
        raise ValueError(f"recipient must be an address, got {recipient!r}")
    tag = tag or new_tag()
    now = datetime.now(UTC)
    domain = recipient.rsplit("@", 1)[1].lower()
    what = f"sending the probe to {recipient} via SMTP {smtp.host}:{smtp.port}"
    with (
        translate(SendFailed, what, address=recipient),
        smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as conn,
    ):
        conn.ehlo()
        if conn.has_extn("starttls"):
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        conn.send_message(
            _message(recipient, tag, now),
            from_addr=f"mailroute-probe@{domain}",
            to_addrs=[recipient],
        )
    log.info("probe %s accepted by the gateway for %s", tag, recipient)
    return ProbeMessage(domain, recipient, tag, now)


def _search(client: IMAPClient, tag: str) -> list[int]:
    client.select_folder("INBOX")
    return list(client.search(["HEADER", PROBE_HEADER, tag]))


def _remove(client: IMAPClient, uids: list[int]) -> None:
    """Delete these probes and any earlier ones left behind (a run that stopped between
    sending and finding its probe); without UIDPLUS leave them, as EXPUNGE would take others."""
    if not client.has_capability("UIDPLUS"):
        return
    leftovers = list(client.search(["HEADER", PROBE_HEADER, ""]))
    doomed = sorted(set(uids) | set(leftovers))
    client.delete_messages(doomed)
    client.uid_expunge(doomed)


def find_probe(
    imap: ImapEndpoint,
    email: str,
    password: str,
    tag: str,
    *,
    timeout: float,
    interval: float = 0.25,
    remove: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Poll ``email``'s INBOX for the probe ``tag`` until ``timeout``; True once found.

    Raises :class:`MailboxFailed` when the mailbox cannot be opened or searched.
    """
    deadline = clock() + timeout
    with (
        session(imap, email, password) as client,
        translate(MailboxFailed, f"searching {email}'s INBOX", address=email, secret=password),
    ):
        while True:
            uids = _search(client, tag)
            if uids:
                if remove:
                    _remove(client, uids)
                return True
            if clock() >= deadline:
                return False
            client.noop()
            time.sleep(interval)  # polling a mailbox: the condition is re-checked each round


def await_probe(
    imap: ImapEndpoint,
    probe: ProbeMessage,
    password: str,
    *,
    timeout: float,
    remove: bool = True,
) -> ProbeResult:
    """Wait for an already sent probe; never raises (failures are in the result)."""
    try:
        found = find_probe(
            imap, probe.recipient, password, probe.tag, timeout=timeout, remove=remove
        )
    except MailFlowError as exc:
        return ProbeResult(probe.domain, probe.recipient, probe.tag, False, error=str(exc))
    seconds = (datetime.now(UTC) - probe.sent_at).total_seconds()
    if not found:
        return ProbeResult(
            probe.domain,
            probe.recipient,
            probe.tag,
            False,
            error=f"not in {probe.recipient}'s INBOX within {timeout:g} s of waiting",
        )
    return ProbeResult(probe.domain, probe.recipient, probe.tag, True, seconds=seconds)


def check_mail_flow(
    smtp: SmtpEndpoint,
    imap: ImapEndpoint,
    recipient: str,
    password: str,
    *,
    timeout: float,
    remove: bool = True,
) -> ProbeResult:
    """Send a probe to ``recipient`` and wait for it in the hosted INBOX; never raises."""
    domain = recipient.rsplit("@", 1)[-1].lower()
    try:
        probe = send_probe(smtp, recipient)
    except MailFlowError as exc:
        return ProbeResult(domain, recipient, None, False, error=str(exc))
    return await_probe(imap, probe, password, timeout=timeout, remove=remove)
