"""Who hears a migration's progress: listeners scoped to a context, not to the process.

A caller that wants live progress (the command line's display, the flow's progress artifact)
wraps its work in :func:`watching`; every :class:`~onboarding.mailsync.models.SyncProgress`
tick, :class:`PassStarted`, :class:`MailboxAttempt` and :class:`MailboxDone` published inside
it reaches the listener. The listeners live in a context variable, which thread pools that copy the
context (Prefect's task runner does) carry into their workers, so two runs in one process
never hear each other and nothing is left registered after the block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from onboarding.mailsync.models import MailboxOutcome, SyncProgress

__all__ = [
    "Listener",
    "MailboxAttempt",
    "MailboxDone",
    "PassStarted",
    "ProgressEvent",
    "publish",
    "watching",
]


@dataclass(frozen=True)
class PassStarted:
    """A pass over ``mailboxes`` mailboxes begins (a display sets its total)."""

    mailboxes: int


@dataclass(frozen=True)
class MailboxAttempt:
    """A sync of ``mailbox`` starts its ``attempt``-th try (1 = first)."""

    mailbox: str
    attempt: int


@dataclass(frozen=True)
class MailboxDone:
    """A mailbox finished (``outcome``) or failed for good (``error``, safe to show)."""

    mailbox: str
    outcome: MailboxOutcome | None
    error: str | None


ProgressEvent = SyncProgress | PassStarted | MailboxAttempt | MailboxDone
Listener = Callable[[ProgressEvent], None]

_LISTENERS: ContextVar[tuple[Listener, ...]] = ContextVar("mailsync_listeners", default=())


@contextmanager
def watching(listener: Listener) -> Iterator[None]:
    """Send every event published in this block (and contexts copied from it) to ``listener``."""
    token = _LISTENERS.set((*_LISTENERS.get(), listener))
    try:
        yield
    finally:
        _LISTENERS.reset(token)


def publish(event: ProgressEvent) -> None:
    """Give ``event`` to every listener of the current context (none: nothing happens)."""
    for listener in _LISTENERS.get():
        listener(event)
