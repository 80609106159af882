"""The engine's boundary types: what callers pass in and what they get back.

All frozen dataclasses. Secrets live only in :class:`Endpoint.password`, which is left out of
``repr``/``str`` so an outcome, a log line or an exception never shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, overload

from onboarding.mailsync.ratelimit import Pacer

if TYPE_CHECKING:
    from onboarding.mailsync.oauth import TokenSource

__all__ = [
    "Endpoint",
    "FolderInfo",
    "FolderOutcome",
    "FolderPlan",
    "GmailOutcome",
    "MailboxOutcome",
    "MailboxPair",
    "MessageProblem",
    "PassKind",
    "PreflightReport",
    "SidePreflight",
    "SyncOptions",
    "SyncPlan",
    "SyncProgress",
    "SyncStatus",
    "TLSMode",
    "pair_key",
]

TLSMode = Literal["implicit", "starttls", "none"]
PassKind = Literal["initial", "incremental", "final"]


@dataclass(frozen=True)
class Endpoint:
    """One side of a mailbox pair: where to connect and how to log in.

    ``login`` is what goes on the wire; for a Dovecot master login it is
    ``user@domain*admin`` and ``password`` is the master password. With ``authzid`` the
    login is ``AUTHENTICATE PLAIN`` as ``login`` (the admin) for the mailbox ``authzid``
    (RFC 4616 authorization identity). With ``token_source`` it is ``AUTHENTICATE XOAUTH2``
    or ``OAUTHBEARER`` as ``login`` with a token from it (:mod:`.oauth`); no password.
    """

    host: str
    port: int
    tls: TLSMode
    login: str
    password: str = field(repr=False, compare=False)
    verify_tls: bool = True
    ca_file: str | None = None  # a PEM bundle trusted instead of the system's (private CA)
    timeout_seconds: float = 60.0
    allow_plaintext: bool = False  # tls none to a host that is not loopback (onboarding.tls)
    authzid: str | None = None
    token_source: TokenSource | None = field(default=None, repr=False, compare=False)

    @property
    def account(self) -> str:
        """The mailbox the login opens (``authzid``, or the part before a master ``*``)."""
        return self.authzid or self.login.split("*", 1)[0]

    def __str__(self) -> str:
        return f"{self.account}@{self.host}:{self.port}"


@dataclass(frozen=True)
class MailboxPair:
    """A source mailbox and the destination mailbox it is copied into."""

    mailbox: str
    source: Endpoint
    destination: Endpoint

    @property
    def key(self) -> str:
        """The pair's identity in the state store and for its lock; holds no secret."""
        s, d = self.source, self.destination
        return pair_key(
            source_host=s.host,
            source_port=s.port,
            source_account=s.account,
            destination_host=d.host,
            destination_port=d.port,
            destination_account=d.account,
        )


def pair_key(
    *,
    source_host: str,
    source_port: int,
    source_account: str,
    destination_host: str,
    destination_port: int,
    destination_account: str,
) -> str:
    """The text of :attr:`MailboxPair.key`, from the pair's non-secret fields only.

    For callers that schedule or lock a pair before its passwords are read. The accounts are
    :attr:`Endpoint.account` (the login without a master-login ``*admin`` suffix)::

        >>> pair_key(source_host="imap.old.example", source_port=993,
        ...          source_account="ann@acme.example", destination_host="127.0.0.1",
        ...          destination_port=1143, destination_account="ann@acme.example")
        'imap.old.example:993/ann@acme.example=>127.0.0.1:1143/ann@acme.example'
    """
    return (
        f"{source_host}:{source_port}/{source_account}"
        f"=>{destination_host}:{destination_port}/{destination_account}"
    )


@dataclass(frozen=True)
class SyncOptions:
    """What one pass copies and how hard it pushes.

    ``exclude_folders`` are shell patterns (``fnmatch``) on the source path written with ``/``
    (``"Archive/2019*"``). ``folder_renames`` maps such a source path to a destination path;
    it applies to the folder and its subfolders.

    Bodies stream one message at a time, so ``fetch_batch``/``fetch_batch_bytes`` (one FETCH
    command, one intent transaction) bound round trips and crash-recovery work, not memory.
    ``pipeline_depth`` APPEND commands are kept in flight, each a MULTIAPPEND of up to
    ``append_group`` messages where the destination offers MULTIAPPEND and LITERAL+.

    ``byte_budget`` (I10, per-account budget) stops copying once this pass has copied that
    many bytes for the mailbox; the rest are counted as skipped and the next pass continues.

    ``since`` / ``before`` limit the pass to messages whose INTERNALDATE (UTC) falls on or
    after ``since`` and before ``before`` (pre-staging the newest mail first); the others are
    skipped as ``OutsideDateRange`` and their folder stays incomplete, like the byte budget,
    so a later pass without the window copies them.

    ``pacer`` (:mod:`.ratelimit`) holds the pass to its messages and bytes per second, per
    mailbox and per source host: bodies are fetched in small batches and each waits its turn.
    ``daily_byte_cap`` is the most a source account may send in 24 hours (Gmail: about
    2,500 MB); the bytes read are kept in the state store across passes, and once the cap is
    reached the mailbox pauses (status ``Paused``, ``MailboxOutcome.resumes_at``) and a later
    pass continues. The final pass is given neither (it must copy everything).

    ``approved_items`` are this mailbox's failed or skipped items an operator accepted, as
    ``(folder, uid)`` with ``folder`` as :attr:`MessageProblem.folder` shows it; the engine
    may stop retrying them (callers use them to tell known problems from new ones).
    """

    pass_kind: PassKind = "initial"
    exclude_trash_and_junk: bool = False
    exclude_folders: tuple[str, ...] = ()
    folder_renames: dict[str, str] = field(default_factory=dict)
    max_message_bytes: int = 50 * 1024 * 1024
    fetch_batch: int = 1000
    fetch_batch_bytes: int = 64 * 1024 * 1024
    pipeline_depth: int = 8
    append_group: int = 50
    max_retries: int = 5
    max_backoff_seconds: float = 300.0
    byte_budget: int | None = None
    since: date | None = None
    before: date | None = None
    approved_items: frozenset[tuple[str, int]] = frozenset()
    pacer: Pacer | None = field(default=None, compare=False)
    daily_byte_cap: int | None = None

    def __post_init__(self) -> None:
        if self.pass_kind not in ("initial", "incremental", "final"):
            raise ValueError(
                f"pass_kind must be initial, incremental or final, not {self.pass_kind!r}"
            )
        for name in ("max_message_bytes", "fetch_batch", "fetch_batch_bytes", "pipeline_depth",
                     "append_group"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        for name in ("byte_budget", "daily_byte_cap"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 or None, not {value!r}")
        if self.since is not None and self.before is not None and self.since >= self.before:
            raise ValueError(f"since ({self.since}) must be before before ({self.before})")
        if self.max_retries < 0 or self.max_backoff_seconds < 0:
            raise ValueError("max_retries and max_backoff_seconds cannot be negative")


class SyncStatus(StrEnum):
    """Per-mailbox status, the vocabulary of Microsoft 365 batches."""

    SYNCED = "Synced"
    SYNCED_WITH_ERRORS = "SyncedWithErrors"
    PAUSED = "Paused"  # the daily byte cap was reached: a later pass continues (issue 10)
    FAILED = "Failed"


@dataclass(frozen=True)
class MessageProblem:
    """One message that was skipped, failed, or copied with a flag the destination refused (I11).

    ``capability`` marks a destination-wide finding shown on a sample message (I5: the server
    did not keep INTERNALDATE, or dropped flags given in APPEND and needed a STORE).
    """

    folder: str
    uid: int
    message_id: str | None
    size: int
    internaldate: str
    outcome: Literal["skipped", "failed", "flags-dropped", "capability"]
    error_class: str
    server_response: str
    fix: str


@dataclass(frozen=True)
class FolderOutcome:
    """Counts for one source folder; ``reconciles`` is the I2 equation.

    ``scan`` says how the source was read: ``unchanged`` (STATUS only), ``delta`` (new UIDs and
    CONDSTORE flag changes only) or ``full`` (every message listed).
    """

    source: str
    destination: str
    in_scope: int = 0
    copied: int = 0
    already_present: int = 0
    source_duplicates: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_copied: int = 0
    flags_updated: int = 0
    dropped_flags: int = 0
    unchanged: bool = False
    identity_matched: bool = False
    scan: Literal["unchanged", "delta", "full"] = "full"

    @property
    def reconciles(self) -> bool:
        accounted = (
            self.copied + self.already_present + self.source_duplicates + self.skipped + self.failed
        )
        return self.in_scope == accounted


class _FolderTotal:
    """A read-only attribute of :class:`MailboxOutcome`: the sum of the same-named count over
    its folders (``outcome.copied == sum(f.copied for f in outcome.folders)``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _FolderTotal: ...
    @overload
    def __get__(self, obj: MailboxOutcome, owner: type) -> int: ...
    def __get__(self, obj: MailboxOutcome | None, owner: type) -> _FolderTotal | int:
        if obj is None:
            return self
        return sum(int(getattr(f, self.name)) for f in obj.folders)


@dataclass(frozen=True)
class GmailOutcome:
    """What a pass did with a Gmail source's All Mail, Starred and Important (docs/gmail.md).

    ``in_labels`` All Mail messages were not copied again (a label folder copies them),
    ``archived`` are only in All Mail and go to ``archive_folder``; ``starred`` messages keep
    \\Flagged on their copies and ``important`` ones are in their labels: neither is a folder.
    """

    detected_by: str
    all_mail: int
    in_labels: int
    archived: int
    archive_folder: str
    starred: int
    important: int

    def sentence(self) -> str:
        """``All Mail 36: 30 in label folders (not copied again), 6 only there → Archive; ...``"""
        return (
            f"Gmail ({self.detected_by}): All Mail {self.all_mail}: {self.in_labels} in label "
            f"folders (not copied again), {self.archived} only there → {self.archive_folder}; "
            f"Starred {self.starred}: \\Flagged on their copies, not a folder; Important "
            f"{self.important}: not a folder (copied with their labels or to Archive)"
        )


@dataclass(frozen=True)
class MailboxOutcome:
    """The result of one pass over one mailbox pair (``gmail`` set for a Gmail source)."""

    mailbox: str
    pass_kind: PassKind
    status: SyncStatus
    folders: tuple[FolderOutcome, ...]
    excluded_folders: tuple[FolderPlan, ...] = ()
    problems: tuple[MessageProblem, ...] = ()
    seconds: float = 0.0
    reconnects: int = 0
    retries: int = 0
    throttle_waits: int = 0
    error: str | None = None
    gmail: GmailOutcome | None = None
    resumes_at: datetime | None = None  # Paused: when the daily byte cap lets it go on (UTC)

    in_scope = _FolderTotal()
    copied = _FolderTotal()
    already_present = _FolderTotal()
    source_duplicates = _FolderTotal()
    skipped = _FolderTotal()
    failed = _FolderTotal()
    bytes_copied = _FolderTotal()
    flags_updated = _FolderTotal()
    dropped_flags = _FolderTotal()

    @property
    def messages_per_second(self) -> float:
        return self.copied / self.seconds if self.seconds > 0 else 0.0

    @property
    def reconciles(self) -> bool:
        """I2: in scope = copied + already present + source duplicates + skipped + failed."""
        return all(f.reconciles for f in self.folders)


@dataclass(frozen=True)
class SyncProgress:
    """A progress tick, sent after each batch and each folder."""

    mailbox: str
    folder: str
    folders_done: int
    folders_total: int
    messages_done: int
    messages_total: int
    bytes_done: int
    bytes_total: int
    elapsed_seconds: float


@dataclass(frozen=True)
class FolderInfo:
    """A folder as the server lists it, with STATUS counts (``bytes`` None if not offered)."""

    name: str
    delimiter: str | None
    flags: tuple[str, ...]
    messages: int | None
    bytes: int | None


@dataclass(frozen=True)
class SidePreflight:
    """What pre-flight found on one side; ``ok`` False carries the classified failure."""

    side: Literal["source", "destination"]
    host: str
    ok: bool
    capabilities: tuple[str, ...] = ()
    folders: tuple[FolderInfo, ...] = ()
    error_class: str | None = None
    error: str | None = None
    fix: str | None = None
    quota_used_bytes: int | None = None
    quota_limit_bytes: int | None = None

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities


@dataclass(frozen=True)
class PreflightReport:
    """Pre-flight of one mailbox pair: both logins, capabilities, folders, counts, sizes."""

    mailbox: str
    source: SidePreflight
    destination: SidePreflight

    @property
    def ok(self) -> bool:
        return self.source.ok and self.destination.ok

    @property
    def messages(self) -> int:
        return sum(f.messages or 0 for f in self.source.folders)

    @property
    def bytes(self) -> int:
        return sum(f.bytes or 0 for f in self.source.folders)

    @property
    def fits(self) -> bool | None:
        """Whether the source mailbox fits the destination's free quota (None: unknown)."""
        d = self.destination
        if d.quota_limit_bytes is None:
            return None
        return self.bytes <= d.quota_limit_bytes - (d.quota_used_bytes or 0)


@dataclass(frozen=True)
class FolderPlan:
    """One source folder's fate: copied to ``destination``, excluded, or an error (I7)."""

    source: str
    source_display: str
    destination: str | None
    destination_display: str | None
    action: Literal["copy", "exclude", "error"]
    reason: str
    special_use: str | None = None
    notes: tuple[str, ...] = ()
    messages: int = 0
    bytes: int = 0
    too_big: int = 0
    too_big_bytes: int = 0


@dataclass(frozen=True)
class SyncPlan:
    """The dry-run answer: the folder map with counts and what would be skipped and why."""

    mailbox: str
    pass_kind: PassKind
    folders: tuple[FolderPlan, ...]

    @property
    def messages(self) -> int:
        return sum(f.messages for f in self.folders if f.action == "copy")

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.folders if f.action == "copy")

    @property
    def errors(self) -> tuple[FolderPlan, ...]:
        return tuple(f for f in self.folders if f.action == "error")
