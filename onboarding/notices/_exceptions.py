"""Errors of the notices engine.

The tree::

    OnboardingError
    └── NoticeError
        ├── NoticeTemplateError   a notice has no template in the asked language, or it fails
        └── NoticeLogError        the record of sent notices cannot be read or written

A notice that the submission service refuses is a ``MailFlowError`` of the mail-flow engine,
folded into the :class:`~onboarding.notices.send.NoticeReport` (never raised).
"""

from __future__ import annotations

from onboarding._exceptions import OnboardingError

__all__ = ["NoticeError", "NoticeLogError", "NoticeTemplateError"]


class NoticeError(OnboardingError):
    """Raised when notices cannot be prepared or their record cannot be kept."""


class NoticeTemplateError(NoticeError):
    """Raised when a notice's template is missing for the language or cannot be rendered."""


class NoticeLogError(NoticeError):
    """Raised when the record of sent notices cannot be read or written."""
