"""Send one kind of notice to many users through the hosted submission service, once each.

:func:`send_notices` skips every user the :class:`~onboarding.notices.record.NoticeLog`
already has for this cutover and kind, renders the rest in the customer's language, sends each
as its own message and records it right after the server accepted it. It never raises for a
refused message: each user ends ``sent``, ``already-sent`` or ``failed`` (with the reason).

Who sends: a service account of the hosted platform (``sender``: MailRoute's onboarding
address, authenticated with its own password), not each user. Sending as the user would need
their password, put mail in their name that they never wrote, and fail for the very users
whose SMTP AUTH is broken; a real host (Microsoft 365, Fastmail) mails its users from its own
address. Replies go to technical support (``Reply-To``); ``Auto-Submitted: auto-generated``
(RFC 3834) keeps auto-responders quiet.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Literal

from onboarding.mailflow import MailFlowError, SubmissionEndpoint, submit
from onboarding.notices.record import NoticeLog
from onboarding.notices.render import NoticeContext, NoticeKind, render_notice

__all__ = [
    "NOTICE_COLUMNS",
    "NOTICE_HEADER",
    "Notice",
    "NoticeOutcome",
    "NoticeReport",
    "NoticeSender",
    "message_id",
    "send_notices",
]

log = logging.getLogger(__name__)

NOTICE_HEADER = "X-MailRoute-Notice"
NOTICE_COLUMNS = ("kind", "email", "status", "error")
Status = Literal["sent", "already-sent", "failed"]


@dataclass(frozen=True)
class NoticeSender:
    """The hosted account notices come from; ``password`` never appears in a repr."""

    address: str
    password: str = field(repr=False)
    name: str = "MailRoute Onboarding"


@dataclass(frozen=True)
class Notice:
    """One user's notice: the context to render, and the secrets it must not contain."""

    context: NoticeContext
    forbidden: Collection[str] = field(default=(), repr=False)

    @property
    def email(self) -> str:
        return self.context.email


@dataclass(frozen=True)
class NoticeOutcome:
    """What happened to one user's notice."""

    kind: str
    email: str
    status: Status
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class NoticeReport:
    """One kind of notice for one cutover: every user's outcome."""

    kind: str
    cutover_id: str
    language: str
    results: tuple[NoticeOutcome, ...]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    @property
    def message(self) -> str:
        failed = [r for r in self.results if r.status == "failed"]
        text = (
            f"{self.kind} notices ({self.language}): {self.count('sent')} sent, "
            f"{self.count('already-sent')} already sent, {len(failed)} failed"
        )
        if failed:
            text += f" (first: {failed[0].email}: {failed[0].error})"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "cutover_id": self.cutover_id,
            "language": self.language,
            "sent": self.count("sent"),
            "already_sent": self.count("already-sent"),
            "failed": self.count("failed"),
            "message": self.message,
            "results": [r.to_dict() for r in self.results],
        }


def message_id(kind: str, cutover_id: str, email: str) -> str:
    """The same Message-ID for the same notice to the same user on every run."""
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    return f"<notice.{kind}.{cutover_id}.{digest}@mailroute-onboarding.invalid>"


def _message(
    sender: NoticeSender, kind: str, cutover_id: str, language: str, notice: Notice
) -> EmailMessage:
    rendered = render_notice(kind, language, notice.context)  # type: ignore[arg-type]
    msg = EmailMessage()
    msg["From"] = formataddr((sender.name, sender.address))
    msg["To"] = notice.email
    msg["Reply-To"] = notice.context.support.technical
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(kind, cutover_id, notice.email)
    msg["Content-Language"] = language
    msg["Auto-Submitted"] = "auto-generated"
    msg[NOTICE_HEADER] = f"{kind} {cutover_id}"
    msg.set_content(rendered.body)
    return msg


def _leaks(msg: EmailMessage, secrets: Collection[str]) -> bool:
    text = msg.as_string()
    body = msg.get_content()
    return any(s and (s in text or s in body) for s in secrets)


def send_notices(
    submission: SubmissionEndpoint,
    sender: NoticeSender,
    kind: NoticeKind,
    *,
    language: str,
    cutover_id: str,
    notices: Sequence[Notice],
    log_book: NoticeLog,
) -> NoticeReport:
    """Send ``kind`` to every user in ``notices`` not yet sent it for ``cutover_id``.

    Raises :class:`~onboarding.notices.NoticeTemplateError` (before anything is sent) when a
    template fails, :class:`~onboarding.notices.NoticeLogError` when the record cannot be kept.
    """
    done = log_book.sent(cutover_id, kind)
    results: list[NoticeOutcome] = []
    for notice in notices:
        email = notice.email
        if email.lower() in done:
            results.append(NoticeOutcome(kind, email, "already-sent"))
            continue
        msg = _message(sender, kind, cutover_id, language, notice)
        if _leaks(msg, [*notice.forbidden, sender.password]):
            why = "not sent: the rendered notice contains a password (check the templates)"
            results.append(NoticeOutcome(kind, email, "failed", why))
            continue
        try:
            submit(submission, sender.address, sender.password, msg, recipients=(email,))
        except MailFlowError as exc:
            results.append(NoticeOutcome(kind, email, "failed", str(exc)))
            continue
        log_book.record(cutover_id, kind, email, datetime.now(UTC))
        done[email.lower()] = datetime.now(UTC)
        results.append(NoticeOutcome(kind, email, "sent"))
    report = NoticeReport(kind, cutover_id, language, tuple(results))
    log.info("%s", report.message)
    return report
