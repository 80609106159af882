"""What the catch-up passes after the cutover brought (runbook phase 4, the follow-up check).

After the switch, mail can still reach the old server for a while (resolvers and senders
that cached the old MX, the old provider's own mail); the cutover schedules incremental
``migrate`` passes for it. The follow-up verification reports them from the run folders
``<output_dir>/<slug>/<UTC timestamp>-migrate/report.json`` that started after the cutover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["CatchupPass", "catchup_passes"]


@dataclass(frozen=True)
class CatchupPass:
    """One migrate pass after the cutover: when, how it ended, what it copied per mailbox."""

    started_at: datetime
    pass_kind: str
    ok: bool
    copied: int
    mailboxes: tuple[tuple[str, int], ...]  # (mailbox, copied) where something was copied

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "pass": self.pass_kind,
            "ok": self.ok,
            "copied": self.copied,
            "mailboxes": {m: n for m, n in self.mailboxes},
        }


def _started(folder: Path) -> datetime | None:
    try:
        return datetime.strptime(folder.name.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def catchup_passes(output_dir: Path, slug: str, since: datetime) -> tuple[CatchupPass, ...]:
    """The non-final migrate passes that started at or after ``since``, oldest first.

    Unreadable report files are skipped (the run folder may be half written by a crash).
    """
    out: list[CatchupPass] = []
    for report in sorted((Path(output_dir) / slug).glob("*-migrate*/report.json")):
        started = _started(report.parent)
        if started is None or started < since.replace(microsecond=0):
            continue
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
            pass_kind = str(data["pass"])
            rows = [(str(m["mailbox"]), int(m["copied"])) for m in data["mailboxes"]]
            ok = bool(data["ok"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pass_kind == "final":
            continue
        copied = tuple((m, n) for m, n in rows if n)
        out.append(CatchupPass(started, pass_kind, ok, sum(n for _, n in rows), copied))
    return tuple(out)
