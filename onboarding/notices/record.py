"""The record of sent notices: one JSON line per notice sent, keyed by cutover and user.

``<output_dir>/<customer-slug>/notices.jsonl``::

    {"cutover_id": "20261127T041500Z", "kind": "welcome", "email": "ann@acme.test",
     "sent_at": "2026-11-27T04:20:03+00:00"}

A line is appended (and flushed to disk) right after the submission service accepted the
notice, so a re-run sends only to users without a line for that cutover and kind. Appending
keeps each send O(1) for a 10,000-user customer; a line torn by a crash is ignored (that one
notice may then be sent again: the only window for a duplicate is the moment between the
server's "250 OK" and the write).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from onboarding.notices._exceptions import NoticeLogError

__all__ = ["FILE_NAME", "NoticeLog"]

FILE_NAME = "notices.jsonl"


class NoticeLog:
    """The notices already sent for one customer (safe to use from one process at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def sent(self, cutover_id: str, kind: str) -> dict[str, datetime]:
        """Lower-cased address -> when the ``kind`` notice of ``cutover_id`` was sent."""
        found: dict[str, datetime] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return found
        except OSError as exc:
            raise NoticeLogError(
                f"{self.path}: cannot read the record of sent notices: {exc}"
            ) from exc
        for line in text.splitlines():
            try:
                row = json.loads(line)
                if row["cutover_id"] == cutover_id and row["kind"] == kind:
                    found[str(row["email"]).lower()] = datetime.fromisoformat(row["sent_at"])
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a crash
        return found

    def record(self, cutover_id: str, kind: str, email: str, sent_at: datetime) -> None:
        """Append one sent notice and flush it to disk."""
        row = {
            "cutover_id": cutover_id,
            "kind": kind,
            "email": email.lower(),
            "sent_at": sent_at.isoformat(),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise NoticeLogError(f"{self.path}: cannot record a sent notice: {exc}") from exc
