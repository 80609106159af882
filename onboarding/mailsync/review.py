"""What the operator reviews between passes: the customer's latest table and their approvals.

Two JSON files beside the customer's run folders (``<output_dir>/<slug>/``), written
atomically:

- ``migration-latest.json``: per mailbox, the row and the failed-transfer items of the last
  pass that synced it. A partial re-run (``--users``) replaces only its own mailboxes, so the
  customer's table stays whole; the cutover reads it before holding anything.
- ``approved-items.json``: the failed or skipped messages an operator accepted
  (:func:`~onboarding.mailsync.report.item_key`), with when and why. Later passes and the
  cutover go past them and stop only on new ones.

Pure data plus load/save; no Prefect.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from onboarding.mailsync.report import (
    APPROVED,
    NEW,
    NOT_APPROVABLE,
    ItemKey,
    MigrationReport,
    item_key,
)

__all__ = [
    "APPROVALS_FILE",
    "LATEST_FILE",
    "Approval",
    "Approvals",
    "LatestTable",
    "load_approvals",
    "load_latest",
    "save_approvals",
    "save_latest",
]

LATEST_FILE = "migration-latest.json"
APPROVALS_FILE = "approved-items.json"


@dataclass(frozen=True)
class Approval:
    """One accepted item: which message, when, and the operator's note."""

    key: ItemKey
    approved_at: str
    note: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        mailbox, folder, uid, message_id = self.key
        return {
            "mailbox": mailbox,
            "folder": folder,
            "uid": uid,
            "message_id": message_id,
            "approved_at": self.approved_at,
            "note": self.note,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Approval:
        key = (str(d["mailbox"]), str(d["folder"]), int(d["uid"]), str(d.get("message_id", "")))
        return cls(key, str(d["approved_at"]), str(d.get("note", "")), str(d.get("reason", "")))


@dataclass(frozen=True)
class Approvals:
    """Every approval of one customer."""

    items: tuple[Approval, ...] = ()

    @property
    def keys(self) -> frozenset[ItemKey]:
        return frozenset(a.key for a in self.items)

    def for_mailbox(self, mailbox: str) -> frozenset[tuple[str, int]]:
        """``(folder, uid)`` of the mailbox's approved items (the engine's plain argument)."""
        return frozenset((a.key[1], a.key[2]) for a in self.items if a.key[0] == mailbox)

    def adding(
        self, rows: Iterable[Mapping[str, object]], *, now: datetime, note: str
    ) -> Approvals:
        """These approvals plus every approvable row not approved yet."""
        known = self.keys
        added = list(self.items)
        for row in rows:
            key = item_key(dict(row))
            if key is not None and key not in known:
                known = known | {key}
                added.append(Approval(key, now.isoformat(), note, str(row.get("reason", ""))))
        return Approvals(tuple(added))

    def to_dict(self) -> dict[str, Any]:
        return {"items": [a.to_dict() for a in self.items]}


@dataclass(frozen=True)
class LatestTable:
    """Per mailbox: the last pass's row and items (``at`` when that pass ran)."""

    mailboxes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def merged(self, report: MigrationReport, *, at: datetime) -> LatestTable:
        """This table with the report's mailboxes replaced by what the report says.

        A pass that skips an unchanged folder still counts that folder's earlier skipped
        messages without listing them again; those earlier items stay in the table (as
        many as the counts say are still not copied), so nothing known drops out of sight.
        """
        items: dict[str, list[dict[str, object]]] = {}
        for row in report.failed_transfers:
            items.setdefault(str(row["mailbox"]), []).append(dict(row))
        merged = dict(self.mailboxes)
        for m in report.mailboxes:
            name = str(m["mailbox"])
            rows = items.get(name, [])
            merged[name] = {
                "pass": report.pass_kind,
                "at": at.isoformat(),
                "row": dict(m),
                "items": rows + _still_pending(self.mailboxes.get(name), m, rows),
            }
        return LatestTable(merged)

    def rows(self, approved: frozenset[ItemKey]) -> list[dict[str, object]]:
        """Every mailbox's latest items, their approval marked as of now, in mailbox order."""
        out: list[dict[str, object]] = []
        for name in sorted(self.mailboxes):
            for item in self.mailboxes[name]["items"]:
                row = dict(item)
                key = item_key(row)
                if key is not None:
                    row["approval"] = APPROVED if key in approved else NEW
                out.append(row)
        return out

    def blocking(self, approved: frozenset[ItemKey], limit: int) -> dict[str, str]:
        """Mailbox → why it would fail a final pass now (approvals as of now); empty: none.

        A mailbox that failed as a whole, a folder in error, or more new items than
        ``limit``.
        """
        out: dict[str, str] = {}
        for name in sorted(self.mailboxes):
            entry = self.mailboxes[name]
            rows = [r for r in self.rows(approved) if r["mailbox"] == name]
            new = sum(1 for r in rows if r.get("approval") == NEW)
            other = [r for r in rows if r.get("approval") == NOT_APPROVABLE]
            if entry["row"].get("status") == "Failed" or any(
                r.get("outcome") == "mailbox-failed" for r in other
            ):
                out[name] = f"the mailbox failed in the {entry['pass']} pass"
            elif other:
                out[name] = f"{len(other)} folder(s) in error"
            elif new > limit:
                out[name] = f"{new} new failed/skipped item(s) (limit {limit})"
        return out

    def mailbox_rows(self) -> list[dict[str, object]]:
        return [dict(self.mailboxes[n]["row"]) for n in sorted(self.mailboxes)]

    def to_dict(self) -> dict[str, Any]:
        return {"mailboxes": self.mailboxes}


def _still_pending(
    before: Mapping[str, Any] | None, row: Mapping[str, object], listed: list[dict[str, object]]
) -> list[dict[str, object]]:
    """Earlier items of a mailbox that the new pass counts but does not list again."""
    if not before or row.get("status") == "Failed":
        return []
    counted = sum(int(str(row.get(k, 0))) for k in ("skipped", "failed"))
    counted -= int(str(row.get("deferred", 0)))
    listed_keys = {item_key(r) for r in listed}
    missing = counted - sum(1 for r in listed if item_key(r) is not None)
    carried = [
        dict(r)
        for r in before.get("items", [])
        if (key := item_key(dict(r))) is not None and key not in listed_keys
    ]
    return carried[: max(missing, 0)]


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable ({exc}); fix or delete it") from exc


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_latest(folder: Path) -> LatestTable:
    """The customer's latest table (empty when no pass ran yet)."""
    data = _read(folder / LATEST_FILE)
    return LatestTable(dict(data["mailboxes"])) if data else LatestTable()


def save_latest(folder: Path, table: LatestTable) -> None:
    _write(folder / LATEST_FILE, table.to_dict())


def load_approvals(folder: Path) -> Approvals:
    """The customer's approvals (none when the file is absent)."""
    data = _read(folder / APPROVALS_FILE)
    if not data:
        return Approvals()
    return Approvals(tuple(Approval.from_dict(d) for d in data["items"]))


def save_approvals(folder: Path, approvals: Approvals) -> None:
    _write(folder / APPROVALS_FILE, approvals.to_dict())
