"""Notices to users: before the cutover and a welcome after it, in the customer's language.

:mod:`.render` fills the Jinja2 templates (``templates/<language>/``), :mod:`.send` sends them
through the hosted submission service from MailRoute's notice account, :mod:`.record` keeps
who was sent what for which cutover, so a re-run never sends a notice twice. No Prefect here.
"""

from onboarding.notices._exceptions import NoticeError, NoticeLogError, NoticeTemplateError
from onboarding.notices.record import NoticeLog
from onboarding.notices.render import (
    KINDS,
    ClientSettings,
    NoticeContext,
    NoticeKind,
    RenderedNotice,
    SupportContacts,
    languages,
    render_notice,
)
from onboarding.notices.send import (
    NOTICE_COLUMNS,
    NOTICE_HEADER,
    Notice,
    NoticeOutcome,
    NoticeReport,
    NoticeSender,
    message_id,
    send_notices,
)

__all__ = [
    "KINDS",
    "NOTICE_COLUMNS",
    "NOTICE_HEADER",
    "ClientSettings",
    "Notice",
    "NoticeContext",
    "NoticeError",
    "NoticeKind",
    "NoticeLog",
    "NoticeLogError",
    "NoticeOutcome",
    "NoticeReport",
    "NoticeSender",
    "NoticeTemplateError",
    "RenderedNotice",
    "SupportContacts",
    "languages",
    "message_id",
    "render_notice",
    "send_notices",
]
