"""The migration report: per-mailbox counts, the reconciliation equation, every failed item.

Pure functions over the engine's outcomes (no Prefect, no I/O), so the same rows feed the
Prefect artifacts, the run-folder CSV/JSON and the command line. A row never holds a secret:
outcomes and engine errors carry none by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onboarding.mailsync import MailboxOutcome, MailSyncError, SyncStatus

__all__ = [
    "FAILED_COLUMNS",
    "MAILBOX_COLUMNS",
    "MailboxResult",
    "MigrationReport",
    "build_report",
]

MAILBOX_COLUMNS = (
    "mailbox",
    "status",
    "in_scope",
    "copied",
    "already_present",
    "source_duplicates",
    "skipped",
    "failed",
    "reconciles",
    "bytes_copied",
    "flags_updated",
    "seconds",
    "messages_per_second",
    "reconnects",
    "retries",
    "error",
)
FAILED_COLUMNS = (
    "mailbox",
    "folder",
    "uid",
    "message_id",
    "size",
    "internaldate",
    "outcome",
    "error_class",
    "reason",
    "fix",
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

    @property
    def ok(self) -> bool:
        """True when nothing failed after retries and every count reconciles (I2)."""
        return (
            self.failed_mailboxes == 0
            and self.totals["failed"] == 0
            and all(bool(m["reconciles"]) for m in self.mailboxes)
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
        return (
            f"in scope {t['in_scope']} = copied {t['copied']} + already present "
            f"{t['already_present']} + source duplicates {t['source_duplicates']} + skipped "
            f"{t['skipped']} + failed {t['failed']} → {verdict}"
        )

    def markdown(self) -> str:
        """The summary artifact: verdict, equation, one row per mailbox."""
        verdict = "all mailboxes synced" if self.ok else "**problems: see failed transfers**"
        lines = [
            f"# Migration ({self.pass_kind} pass) for {self.customer_slug}: {verdict}",
            "",
            f"- mailboxes: {len(self.mailboxes)}, failed after retries: {self.failed_mailboxes}",
            f"- {self.equation}",
            f"- bytes copied: {self.totals['bytes_copied']:,}",
            f"- failed or skipped items listed: {len(self.failed_transfers)}",
            "",
            "| mailbox | status | in scope | copied | already present | source duplicates "
            "| skipped | failed | reconciles | MB | msg/s |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        ]
        for m in self.mailboxes:
            lines.append(
                f"| {m['mailbox']} | {m['status']} | {m['in_scope']} | {m['copied']} | "
                f"{m['already_present']} | {m['source_duplicates']} | {m['skipped']} | "
                f"{m['failed']} | {'yes' if m['reconciles'] else 'NO'} | "
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
            "mailboxes": list(self.mailboxes),
            "failed_transfers": list(self.failed_transfers),
        }


def _error_row(result: MailboxResult) -> dict[str, object]:
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
        "uid": "",
        "message_id": "",
        "size": "",
        "internaldate": "",
        "outcome": "mailbox-failed",
        "error_class": type(exc).__name__ if exc is not None else "Unknown",
        "reason": f"{reason} (after {result.attempts} attempt(s))",
        "fix": fix,
    }


def _mailbox_row(result: MailboxResult) -> dict[str, object]:
    o = result.outcome
    if o is None:
        return {
            "mailbox": result.mailbox,
            "status": SyncStatus.FAILED.value,
            **{c: 0 for c in MAILBOX_COLUMNS[2:8]},
            "reconciles": True,
            "bytes_copied": 0,
            "flags_updated": 0,
            "seconds": 0,
            "messages_per_second": 0,
            "reconnects": 0,
            "retries": result.attempts - 1,
            "error": type(result.error).__name__ if result.error else "Unknown",
        }
    return {
        "mailbox": o.mailbox,
        "status": o.status.value,
        "in_scope": o.in_scope,
        "copied": o.copied,
        "already_present": o.already_present,
        "source_duplicates": o.source_duplicates,
        "skipped": o.skipped,
        "failed": o.failed,
        "reconciles": o.reconciles,
        "bytes_copied": o.bytes_copied,
        "flags_updated": o.flags_updated,
        "seconds": round(o.seconds, 2),
        "messages_per_second": round(o.messages_per_second, 1),
        "reconnects": o.reconnects,
        "retries": o.retries + result.attempts - 1,
        "error": o.error or "",
    }


def build_report(
    customer_slug: str, pass_kind: str, results: Sequence[MailboxResult]
) -> MigrationReport:
    """Fold per-mailbox results into the report (mailboxes in the order given)."""
    mailboxes = tuple(_mailbox_row(r) for r in results)
    failed: list[dict[str, object]] = []
    for r in results:
        if r.outcome is None:
            failed.append(_error_row(r))
            continue
        if r.outcome.status is SyncStatus.FAILED and r.outcome.error:
            failed.append(
                {
                    **_error_row(r),
                    "error_class": "MailboxFailed",
                    "reason": r.outcome.error,
                    "fix": "see the reason; re-run the migrate command to retry this mailbox",
                }
            )
        for p in r.outcome.problems:
            failed.append(
                {
                    "mailbox": r.mailbox,
                    "folder": p.folder,
                    "uid": p.uid,
                    "message_id": p.message_id or "",
                    "size": p.size,
                    "internaldate": p.internaldate,
                    "outcome": p.outcome,
                    "error_class": p.error_class,
                    "reason": p.server_response,
                    "fix": p.fix,
                }
            )
    keys = ("in_scope", "copied", "already_present", "source_duplicates", "skipped", "failed")
    totals = {k: sum(int(str(m[k])) for m in mailboxes) for k in keys}
    totals["bytes_copied"] = sum(int(str(m["bytes_copied"])) for m in mailboxes)
    totals["flags_updated"] = sum(int(str(m["flags_updated"])) for m in mailboxes)
    failed_mailboxes = sum(
        1 for r in results if r.outcome is None or r.outcome.status is SyncStatus.FAILED
    )
    return MigrationReport(
        customer_slug=customer_slug,
        pass_kind=pass_kind,
        mailboxes=mailboxes,
        failed_transfers=tuple(failed),
        totals=totals,
        failed_mailboxes=failed_mailboxes,
        uncounted_mailboxes=sum(1 for r in results if r.outcome is None),
    )
