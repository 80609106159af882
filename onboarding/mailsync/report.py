"""The migration report: per-mailbox counts, the reconciliation equation, every failed item.

Pure functions over the engine's outcomes (no Prefect, no I/O), so the same rows feed the
Prefect artifacts, the run-folder CSV/JSON and the command line. A row never holds a secret:
outcomes and engine errors carry none by construction.

The bad-item policy (Microsoft's ``BadItemLimit`` / ``ApproveSkippedItems``, imapsync's
``--errorsmax``) is applied here: every failed or skipped message is an *item*, ``approved``
when an operator accepted it (:func:`item_key` names it) and ``new`` otherwise. A mailbox
fails the pass when it failed as a whole, has a folder in error (not approvable: fix the
folder), or has more new items than ``bad_item_limit``. Messages left for a later pass
(byte budget, ``--since`` window) are *deferred*: counted, never items. A mailbox that
reached its account's daily byte cap is ``Paused`` with ``resumes at HH:MM UTC``: it does not
fail the pass, and its deferred messages reconcile like any others. Throttling answers the
source gave (and the waits they cost) are counted per mailbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onboarding.mailsync import MailboxOutcome, MailSyncError, MessageProblem, SyncStatus

__all__ = [
    "DEFERRED_CLASSES",
    "FAILED_COLUMNS",
    "MAILBOX_COLUMNS",
    "ItemKey",
    "MailboxResult",
    "MigrationReport",
    "build_report",
    "human_size",
    "item_key",
    "table_rows",
]

# Problems that only mean "a later pass copies it": never an item to approve or fix.
DEFERRED_CLASSES = frozenset({"ByteBudget", "OutsideDateRange"})
APPROVED, NEW, NOT_APPROVABLE = "approved", "new", "not approvable"

ItemKey = tuple[str, str, int, str]
"""``(mailbox, folder, uid, message_id)`` of one failed or skipped message."""


def item_key(row: dict[str, object]) -> ItemKey | None:
    """The approval key of a failed-transfers row; None for a row that is not one message
    (a mailbox that failed as a whole, a folder in error: those need a fix, not a waiver)."""
    uid = row.get("uid")
    if row.get("outcome") not in ("failed", "skipped") or not isinstance(uid, int) or uid <= 0:
        return None
    return (str(row["mailbox"]), str(row["folder"]), uid, str(row.get("message_id") or ""))


def human_size(value: object) -> str:
    """``9000000`` → ``"8.6 MB"``; text (an empty cell) is returned as is."""
    if not isinstance(value, int):
        return str(value)
    size = float(value)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(value)  # pragma: no cover


# The counts of a mailbox row that the report also totals over every mailbox.
_COUNTED = (
    "in_scope",
    "copied",
    "already_present",
    "source_duplicates",
    "skipped",
    "failed",
    "deferred",
    "new_items",
    "approved_items",
)
_VOLUME = ("bytes_copied", "flags_updated")
_TOTALLED = (*_COUNTED, *_VOLUME, "throttle_waits")

MAILBOX_COLUMNS = (
    "mailbox",
    "status",
    *_COUNTED,
    "reconciles",
    *_VOLUME,
    "seconds",
    "messages_per_second",
    "reconnects",
    "retries",
    "throttle_waits",
    "paused",
    "error",
    "verdict",
    "gmail",
)
# What to do comes first: mailbox, folder, why, what to do, whether it is already accepted.
FAILED_COLUMNS = (
    "mailbox",
    "folder",
    "reason",
    "fix",
    "approval",
    "outcome",
    "size",
    "internaldate",
    "message_id",
    "uid",
    "error_class",
    "pass",
)


@dataclass(frozen=True)
class MailboxResult:
    """What became of one mailbox: the engine's outcome, or the error after all retries."""

    mailbox: str
    outcome: MailboxOutcome | None = None
    error: BaseException | None = None
    attempts: int = 1


@dataclass(frozen=True)
class MigrationReport:
    """Everything the end-of-run artifacts and files show."""

    customer_slug: str
    pass_kind: str
    mailboxes: tuple[dict[str, object], ...]
    failed_transfers: tuple[dict[str, object], ...]
    totals: dict[str, int]
    failed_mailboxes: int
    uncounted_mailboxes: int = 0
    bad_item_limit: int = 0
    warnings: tuple[str, ...] = ()  # what every report of the spec names (tls_verify false)

    @property
    def paused(self) -> tuple[str, ...]:
        """``ann@x (resumes at 14:00 UTC)`` for each mailbox the daily byte cap paused."""
        return tuple(f"{m['mailbox']} ({m['paused']})" for m in self.mailboxes if m.get("paused"))

    @property
    def problem_mailboxes(self) -> tuple[str, ...]:
        """The mailboxes that fail the pass: failed, a folder in error, or over the limit."""
        return tuple(str(m["mailbox"]) for m in self.mailboxes if m.get("verdict") != "ok")

    @property
    def ok(self) -> bool:
        """True when no mailbox fails the bad-item policy and every count reconciles (I2)."""
        return not self.problem_mailboxes and all(bool(m["reconciles"]) for m in self.mailboxes)

    @property
    def problems_text(self) -> str:
        """``a@x (2 new failed/skipped items), b@y (AuthFailed)``: who fails the pass and why."""
        return ", ".join(
            f"{m['mailbox']} ({m['verdict']})" for m in self.mailboxes if m.get("verdict") != "ok"
        )

    @property
    def equation(self) -> str:
        """The I2 equation over all mailboxes, with its verdict."""
        t = self.totals
        right = (
            t["copied"] + t["already_present"] + t["source_duplicates"] + t["skipped"] + t["failed"]
        )
        verdict = "reconciles" if right == t["in_scope"] else "DOES NOT reconcile"
        if self.uncounted_mailboxes:
            # A mailbox that failed before its folders were listed has no counts at all:
            # its messages are neither in scope nor failed, so the sum alone would hide it.
            verdict += (
                f", but {self.uncounted_mailboxes} mailbox(es) failed before their messages "
                "were counted (see failed-transfers)"
            )
        deferred = (
            f" ({t['deferred']} of the skipped left for a later pass)" if t["deferred"] else ""
        )
        return (
            f"in scope {t['in_scope']} = copied {t['copied']} + already present "
            f"{t['already_present']} + source duplicates {t['source_duplicates']} + skipped "
            f"{t['skipped']} + failed {t['failed']} → {verdict}{deferred}"
        )

    def markdown(self) -> str:
        """The summary artifact: verdict, equation, one row per mailbox."""
        verdict = "all mailboxes synced" if self.ok else "**problems: see failed transfers**"
        copied = self.totals["bytes_copied"]
        lines = [
            f"# Migration ({self.pass_kind} pass) for {self.customer_slug}: {verdict}",
            "",
            f"- mailboxes: {len(self.mailboxes)}, failed after retries: {self.failed_mailboxes}",
            f"- {self.equation}",
            f"- bytes copied: {copied:,} ({human_size(copied)})",
            f"- failed or skipped items listed: {len(self.failed_transfers)} "
            f"({self.totals['new_items']} new, {self.totals['approved_items']} approved; "
            f"limit {self.bad_item_limit} new per mailbox)",
        ]
        if self.paused:
            lines.append(
                f"- paused by the daily byte cap (a later pass continues): {', '.join(self.paused)}"
            )
        if self.totals.get("throttle_waits"):
            lines.append(f"- throttling answers waited out: {self.totals['throttle_waits']}")
        lines += [f"- **warning**: {w}" for w in self.warnings]
        if not self.ok:
            lines.append(f"- failing the pass: {self.problems_text}")
        lines += [f"- {m['mailbox']}: {m['gmail']}" for m in self.mailboxes if m.get("gmail")]
        lines += [
            "",
            "| mailbox | status | in scope | copied | already present | source duplicates "
            "| skipped | failed | new items | approved | reconciles | MB | msg/s |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        ]
        for m in self.mailboxes:
            lines.append(
                f"| {m['mailbox']} | {m['status']} | {m['in_scope']} | {m['copied']} | "
                f"{m['already_present']} | {m['source_duplicates']} | {m['skipped']} | "
                f"{m['failed']} | {m['new_items']} | {m['approved_items']} | "
                f"{'yes' if m['reconciles'] else 'NO'} | "
                f"{int(str(m['bytes_copied'])) / 1e6:.1f} | {m['messages_per_second']} |"
            )
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, object]:
        return {
            "customer": self.customer_slug,
            "pass": self.pass_kind,
            "ok": self.ok,
            "equation": self.equation,
            "totals": self.totals,
            "failed_mailboxes": self.failed_mailboxes,
            "bad_item_limit": self.bad_item_limit,
            "problem_mailboxes": list(self.problem_mailboxes),
            "mailboxes": list(self.mailboxes),
            "failed_transfers": list(self.failed_transfers),
            "warnings": list(self.warnings),
        }


def _error_row(result: MailboxResult, pass_kind: str) -> dict[str, object]:
    exc = result.error
    fix = getattr(exc, "fix", None) or (
        "see the error; re-run the migrate command to retry this mailbox"
    )
    reason = str(exc) if exc is not None else "unknown error"
    if isinstance(exc, MailSyncError) and exc.fix and reason.endswith(f" (fix: {exc.fix})"):
        reason = reason.removesuffix(f" (fix: {exc.fix})")
    return {
        "mailbox": result.mailbox,
        "folder": "",
        "reason": f"{reason} (after {result.attempts} attempt(s))",
        "fix": fix,
        "approval": NOT_APPROVABLE,
        "outcome": "mailbox-failed",
        "size": "",
        "internaldate": "",
        "message_id": "",
        "uid": "",
        "error_class": type(exc).__name__ if exc is not None else "Unknown",
        "pass": pass_kind,
    }


def _problem_row(
    mailbox: str, p: MessageProblem, pass_kind: str, approved: frozenset[ItemKey]
) -> dict[str, object]:
    row: dict[str, object] = {
        "mailbox": mailbox,
        "folder": p.folder,
        "reason": p.server_response,
        "fix": p.fix,
        "approval": "",
        "outcome": p.outcome,
        "size": p.size,
        "internaldate": p.internaldate,
        "message_id": p.message_id or "",
        "uid": p.uid,
        "error_class": p.error_class,
        "pass": pass_kind,
    }
    if p.outcome in ("failed", "skipped"):
        key = item_key(row)
        row["approval"] = NOT_APPROVABLE if key is None else APPROVED if key in approved else NEW
    return row


def _mailbox_row(
    result: MailboxResult, items: list[dict[str, object]], limit: int
) -> dict[str, object]:
    o = result.outcome
    new = sum(1 for r in items if r["approval"] == NEW)
    waived = sum(1 for r in items if r["approval"] == APPROVED)
    blocking = [r for r in items if r["approval"] == NOT_APPROVABLE]
    if o is None:
        return {
            "mailbox": result.mailbox,
            "status": SyncStatus.FAILED.value,
            **{c: 0 for c in MAILBOX_COLUMNS[2:11]},
            "reconciles": True,
            "bytes_copied": 0,
            "flags_updated": 0,
            "seconds": 0,
            "messages_per_second": 0,
            "reconnects": 0,
            "retries": result.attempts - 1,
            "throttle_waits": 0,
            "paused": "",
            "error": type(result.error).__name__ if result.error else "Unknown",
            "verdict": type(result.error).__name__ if result.error else "failed",
            "gmail": "",
        }
    deferred = sum(1 for p in o.problems if p.error_class in DEFERRED_CLASSES)
    if o.status is SyncStatus.FAILED:
        verdict = "mailbox failed"
    elif blocking:
        verdict = f"{len(blocking)} folder(s) in error"
    elif new > limit:
        verdict = f"{new} new failed/skipped item(s), limit {limit}"
    else:
        verdict = "ok"
    return {
        "mailbox": o.mailbox,
        "status": o.status.value,
        "in_scope": o.in_scope,
        "copied": o.copied,
        "already_present": o.already_present,
        "source_duplicates": o.source_duplicates,
        "skipped": o.skipped,
        "failed": o.failed,
        "deferred": deferred,
        "new_items": new,
        "approved_items": waived,
        "reconciles": o.reconciles,
        "bytes_copied": o.bytes_copied,
        "flags_updated": o.flags_updated,
        "seconds": round(o.seconds, 2),
        "messages_per_second": round(o.messages_per_second, 1),
        "reconnects": o.reconnects,
        "retries": o.retries + result.attempts - 1,
        "throttle_waits": o.throttle_waits,
        "paused": (
            f"resumes at {o.resumes_at:%H:%M} UTC ({o.resumes_at:%Y-%m-%d})"
            if o.status is SyncStatus.PAUSED and o.resumes_at is not None
            else ""
        ),
        "error": o.error or "",
        "verdict": verdict,
        "gmail": o.gmail.sentence() if o.gmail else "",
    }


def build_report(
    customer_slug: str,
    pass_kind: str,
    results: Sequence[MailboxResult],
    *,
    approved: frozenset[ItemKey] = frozenset(),
    bad_item_limit: int = 0,
    warnings: tuple[str, ...] = (),
) -> MigrationReport:
    """Fold per-mailbox results into the report (mailboxes in the order given).

    ``approved``: the items an operator accepted (:func:`item_key`); ``bad_item_limit``: how
    many new items a mailbox may have and still pass.
    """
    mailboxes: list[dict[str, object]] = []
    failed: list[dict[str, object]] = []
    for r in results:
        items: list[dict[str, object]] = []
        if r.outcome is None:
            items.append(_error_row(r, pass_kind))
        else:
            if r.outcome.status is SyncStatus.FAILED and r.outcome.error:
                items.append(
                    {
                        **_error_row(r, pass_kind),
                        "error_class": "MailboxFailed",
                        "reason": r.outcome.error,
                        "fix": "see the reason; re-run the migrate command to retry this mailbox",
                    }
                )
            items += [
                _problem_row(r.mailbox, p, pass_kind, approved)
                for p in r.outcome.problems
                if p.error_class not in DEFERRED_CLASSES
            ]
        mailboxes.append(_mailbox_row(r, items, bad_item_limit))
        failed += items
    totals = {k: sum(int(str(m[k])) for m in mailboxes) for k in _TOTALLED}
    totals["paused_mailboxes"] = sum(1 for m in mailboxes if m["paused"])
    failed_mailboxes = sum(
        1 for r in results if r.outcome is None or r.outcome.status is SyncStatus.FAILED
    )
    return MigrationReport(
        customer_slug=customer_slug,
        pass_kind=pass_kind,
        mailboxes=tuple(mailboxes),
        failed_transfers=tuple(failed),
        totals=totals,
        failed_mailboxes=failed_mailboxes,
        uncounted_mailboxes=sum(1 for r in results if r.outcome is None),
        bad_item_limit=bad_item_limit,
        warnings=warnings,
    )


def table_rows(rows: Sequence[dict[str, object]]) -> dict[str, list[object]]:
    """The failed-transfers table as Prefect's column mapping, sizes human-readable."""
    return {
        c: [human_size(r.get(c, "")) if c == "size" else r.get(c, "") for r in rows]
        for c in FAILED_COLUMNS
    }
