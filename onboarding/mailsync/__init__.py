"""IMAP-to-IMAP mailbox sync engine (no Prefect): pre-flight, plan, and incremental copy.

Typical use::

    pair = MailboxPair("ann@acme.example", source=Endpoint(...), destination=Endpoint(...))
    report = preflight(pair, SyncOptions())          # writes nothing
    plan_ = plan(pair, SyncOptions())                # dry run, writes nothing
    outcome = sync_mailbox(pair, SyncOptions(pass_kind="initial"), StateStore("sqlite:///s.db"))
    assert outcome.reconciles

Errors are :class:`MailSyncError` subclasses; those with ``transient = True`` are worth a retry.

Modules: ``wire`` (pure IMAP grammar), ``connection``/``imap`` (client), ``append``
(pipelined MULTIAPPEND), ``folders`` (pure folder map), ``flags``, ``identity``, ``matching``,
``problems``, ``state`` (SQLAlchemy store, leases), ``sync`` (the pass) with ``tracker``
(its progress, lease and byte budget), ``folder_sync`` (one changed folder) with
``folder_work`` (what its steps share), ``folder_scan``, ``folder_match`` and ``folder_copy``
(steps 2-4), ``preflight``, ``plan``; ``ratelimit`` (messages/bytes per second per mailbox
and per host) and ``daily_cap`` (an account's bytes per 24 h, kept in the state store).

Invariants of the reference (§5) and the tests that prove them (tests/onboarding/mailsync):

- I1 no duplicates on re-run: test_sync copy_then_rerun, uidvalidity_change, intent_without_
  confirmation, dropped_connections, unconfirmed_original (and tests/resilience, kill -9);
  test_invariants_more rerun_with_a_missing_uid_cache
- I2 counts reconcile: every test_sync test (``_assert_reconciled``), test_models
- I3 bytes / I5 INTERNALDATE: test_sync copy_then_rerun (SHA-256 + date read back); the engine
  also reads back a sample per folder: test_invariants_more destination_ignoring_the_append_date
  (DateNotKept) and destination_dropping_append_flags (FlagsNotKept, set again by STORE)
- I4 flags: test_sync flag_changes_propagate, refused_flag…, plain_imap4rev1 (no UIDPLUS);
  test_flags (PERMANENTFLAGS, \\Recent never sent)
- I6 source never modified: test_sync copy_then_rerun, test_preflight, test_plan (snapshots)
- I7 folder map total and deterministic: test_folders
- I8 safe checkpoints: test_sync intent_without_confirmation, unconfirmed_original
- I9 UIDVALIDITY-aware state: test_state rows_are_keyed…, test_sync uidvalidity_change,
  test_invariants_more destination_uidvalidity_change
- I10 one sync per pair: test_state lease tests, test_sync a_second_sync…; per-account byte
  budget (``SyncOptions.byte_budget``): test_invariants_more byte_budget…; daily byte cap:
  test_daily_cap; rates: test_ratelimit; throttling: test_throttle; per-host cap:
  tests/flows/test_migrate_host_cap
- I11 every skip/failure explained: test_sync refused_flag_over_quota_and_too_big,
  destination_rejecting_a_too_big_message; test_problems
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
    GmailOutcome,
    MailboxOutcome,
    MailboxPair,
    MessageProblem,
    PreflightReport,
    SidePreflight,
    SyncOptions,
    SyncPlan,
    SyncProgress,
    SyncStatus,
    pair_key,
)
from onboarding.mailsync.plan import plan
from onboarding.mailsync.preflight import preflight, require_app_access
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
    "GmailOutcome",
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
    "pair_key",
    "plan",
    "preflight",
    "require_app_access",
    "sync_mailbox",
]
