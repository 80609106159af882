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
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from imapclient import IMAPClient
from pydantic import SecretStr

from onboarding.mailflow._exceptions import MailboxFailed, MailFlowError, SendFailed, translate
from onboarding.mailflow._imap import ImapEndpoint, session
from onboarding.reports import report_row
from onboarding.tls import decide_tls

__all__ = [
    "PROBE_HEADER",
    "ProbeMessage",
    "ProbeResult",
    "SmtpEndpoint",
    "await_in_mailboxes",
    "await_probe",
    "await_probes",
    "check_alias_flow",
    "check_mail_flow",
    "find_probe",
    "find_probes",
    "new_tag",
    "send_probe",
    "tagged_message",
]

log = logging.getLogger(__name__)

PROBE_HEADER = "X-MailRoute-Probe"

# The gateway's SMTP (port 25) is upgraded whenever it offers STARTTLS (RFC 3207).
_GATEWAY_TLS = "opportunistic"


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


@report_row
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
        seconds = None if self.seconds is None else round(self.seconds, 2)
        return {**asdict(self), "seconds": seconds}


def new_tag(purpose: str = "probe") -> str:
    """Return a tag no other probe uses: ``<purpose>-<UTC time>-<random>``."""
    return f"{purpose}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(6)}"


def tagged_message(
    *, sender: str, recipient: str, subject: str, tag: str, now: datetime, text: str
) -> EmailMessage:
    """A probe message: ``tag`` in its subject, Message-ID and :data:`PROBE_HEADER` (how
    :func:`find_probe` finds it and how it is removed again)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = f"[MailRoute] {subject} {tag}"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(idstring=tag, domain="mailroute-onboarding.invalid")
    msg[PROBE_HEADER] = tag
    msg.set_content(text)
    return msg


def _message(recipient: str, tag: str, now: datetime) -> EmailMessage:
    domain = recipient.rsplit("@", 1)[1]
    return tagged_message(
        sender=f"MailRoute onboarding <mailroute-probe@{domain}>",
        recipient=recipient,
        subject="mail-flow check",
        tag=tag,
        now=now,
        text="An automatic test message from MailRoute onboarding, checking that mail reaches "
        "this mailbox. It is removed automatically once found; you may delete it.\n",
    )


def send_probe(smtp: SmtpEndpoint, recipient: str, *, tag: str | None = None) -> ProbeMessage:
    """Send one tagged probe to ``recipient`` through the gateway; raise :class:`SendFailed`."""
    if "@" not in recipient:
        raise ValueError(f"recipient must be an address, got {recipient!r}")
    tag = tag or new_tag()
    now = datetime.now(UTC)
    domain = recipient.rsplit("@", 1)[1].lower()
    what = f"sending the probe to {recipient} via SMTP {smtp.host}:{smtp.port}"
    tls = decide_tls(_GATEWAY_TLS, smtp.host)
    with (
        translate(SendFailed, what, address=recipient),
        smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as conn,
    ):
        conn.ehlo()
        if tls.starttls and (tls.starttls_required or conn.has_extn("starttls")):
            conn.starttls(context=tls.context)
            conn.ehlo()
        conn.send_message(
            _message(recipient, tag, now),
            from_addr=f"mailroute-probe@{domain}",
            to_addrs=[recipient],
        )
    log.info("probe %s accepted by the gateway for %s", tag, recipient)
    return ProbeMessage(domain, recipient, tag, now)


def _search(client: IMAPClient, tag: str) -> list[int]:
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


def find_probes(
    imap: ImapEndpoint,
    email: str,
    password: str,
    tags: Collection[str],
    *,
    timeout: float,
    interval: float = 0.25,
    remove: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, datetime]:
    """Poll ``email``'s INBOX until every probe in ``tags`` is there or ``timeout`` passes;
    return when each found one was first seen.

    One session for all of them: removing a found probe also removes probes left behind
    (see :func:`_remove`), so probes to the same mailbox must be awaited together.
    Raises :class:`MailboxFailed` when the mailbox cannot be opened or searched.
    """
    deadline = clock() + timeout
    seen: dict[str, datetime] = {}
    uids: list[int] = []
    with (
        session(imap, email, password) as client,
        translate(MailboxFailed, f"searching {email}'s INBOX", address=email, secret=password),
    ):
        while True:
            client.select_folder("INBOX")
            for tag in [t for t in tags if t not in seen]:
                found = _search(client, tag)
                if found:
                    seen[tag] = datetime.now(UTC)
                    uids += found
            if len(seen) == len(set(tags)) or clock() >= deadline:
                break
            client.noop()
            time.sleep(interval)  # polling a mailbox: the condition is re-checked each round
        if remove and uids:
            _remove(client, uids)
    return seen


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
    """:func:`find_probes` for one probe: True once found."""
    found = find_probes(
        imap, email, password, [tag], timeout=timeout, interval=interval, remove=remove, clock=clock
    )
    return tag in found


def await_probes(
    imap: ImapEndpoint,
    mailbox: str,
    password: str,
    probes: Sequence[ProbeMessage],
    *,
    timeout: float,
    remove: bool = True,
) -> tuple[ProbeResult, ...]:
    """Wait for already sent probes that all land in ``mailbox`` (the recipient, or the
    account an alias delivers to); never raises (failures are in the results)."""
    if not probes:
        return ()
    try:
        seen = find_probes(
            imap, mailbox, password, [p.tag for p in probes], timeout=timeout, remove=remove
        )
    except MailFlowError as exc:
        why = str(exc)
        return tuple(ProbeResult(p.domain, p.recipient, p.tag, False, error=why) for p in probes)
    return tuple(
        ProbeResult(
            p.domain, p.recipient, p.tag, True, seconds=(seen[p.tag] - p.sent_at).total_seconds()
        )
        if p.tag in seen
        else ProbeResult(
            p.domain,
            p.recipient,
            p.tag,
            False,
            error=f"not in {mailbox}'s INBOX within {timeout:g} s of waiting",
        )
        for p in probes
    )


def await_in_mailboxes(
    imap: ImapEndpoint,
    waits: Sequence[tuple[str, str, Sequence[ProbeMessage]]],
    *,
    timeout: float,
    remove: bool = True,
) -> tuple[ProbeResult, ...]:
    """:func:`await_probes` for several mailboxes, ``(mailbox, password, probes)`` each, within
    one ``timeout`` for all: the probes were sent together, so a missing one costs one wait,
    not one per mailbox. Never raises."""
    deadline = time.monotonic() + timeout
    results: list[ProbeResult] = []
    for mailbox, password, probes in waits:
        left = max(0.0, deadline - time.monotonic())
        results += await_probes(imap, mailbox, password, probes, timeout=left, remove=remove)
    return tuple(results)


def await_probe(
    imap: ImapEndpoint,
    probe: ProbeMessage,
    password: str,
    *,
    timeout: float,
    remove: bool = True,
) -> ProbeResult:
    """Wait for an already sent probe in its recipient's INBOX; never raises."""
    (result,) = await_probes(
        imap, probe.recipient, password, [probe], timeout=timeout, remove=remove
    )
    return result


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


class AliasOwner(Protocol):
    """A mailbox and the other localparts of its domain that deliver to it."""

    @property
    def email(self) -> str: ...

    @property
    def password(self) -> SecretStr: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...


def check_alias_flow(
    smtp: SmtpEndpoint,
    imap: ImapEndpoint,
    owners: Sequence[AliasOwner],
    *,
    timeout: float,
) -> tuple[ProbeResult, ...]:
    """Send a probe to every alias, then find each in its owner's INBOX; never raises.

    All probes go out first and are awaited within one ``timeout``, so the wait is one
    delivery time, not one per alias.
    """
    results: list[ProbeResult] = []
    waits: list[tuple[str, str, Sequence[ProbeMessage]]] = []
    for owner in owners:
        domain = owner.email.rsplit("@", 1)[1].lower()
        probes = []
        for alias in owner.aliases:
            address = f"{alias}@{domain}"
            try:
                probes.append(send_probe(smtp, address))
            except MailFlowError as exc:
                results.append(ProbeResult(domain, address, None, False, error=str(exc)))
        waits.append((owner.email, owner.password.get_secret_value(), probes))
    return tuple(results) + await_in_mailboxes(imap, waits, timeout=timeout)
