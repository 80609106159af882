"""IMAP-to-IMAP mailbox sync engine (no Prefect): pre-flight, plan, and incremental copy.

Typical use::

    pair = MailboxPair("ann@acme.example", source=Endpoint(...), destination=Endpoint(...))
    report = preflight(pair, SyncOptions())          # writes nothing
    plan_ = plan(pair, SyncOptions())                # dry run, writes nothing
    outcome = sync_mailbox(pair, SyncOptions(pass_kind="initial"), StateStore("sqlite:///s.db"))
    assert outcome.reconciles

Errors are :class:`MailSyncError` subclasses; those with ``transient = True`` are worth a retry.
"""

from onboarding.mailsync._exceptions import (
    AuthFailed,
    ConnectFailed,
    ConnectionLost,
    FolderMapError,
    IMAPDisabled,
    MailSyncError,
    ProtocolError,
    StateError,
    StateLocked,
    Throttled,
    TLSFailed,
    TransientSyncError,
)
from onboarding.mailsync.models import (
    Endpoint,
    FolderInfo,
    FolderOutcome,
    FolderPlan,
    MailboxOutcome,
    MailboxPair,
    MessageProblem,
    PreflightReport,
    SidePreflight,
    SyncOptions,
    SyncPlan,
    SyncProgress,
    SyncStatus,
)
from onboarding.mailsync.plan import plan
from onboarding.mailsync.preflight import preflight
from onboarding.mailsync.state import StateStore
from onboarding.mailsync.sync import sync_mailbox

__all__ = [
    "AuthFailed",
    "ConnectFailed",
    "ConnectionLost",
    "Endpoint",
    "FolderInfo",
    "FolderMapError",
    "FolderOutcome",
    "FolderPlan",
    "IMAPDisabled",
    "MailSyncError",
    "MailboxOutcome",
    "MailboxPair",
    "MessageProblem",
    "PreflightReport",
    "ProtocolError",
    "SidePreflight",
    "StateError",
    "StateLocked",
    "StateStore",
    "SyncOptions",
    "SyncPlan",
    "SyncProgress",
    "SyncStatus",
    "TLSFailed",
    "Throttled",
    "TransientSyncError",
    "plan",
    "preflight",
    "sync_mailbox",
]
