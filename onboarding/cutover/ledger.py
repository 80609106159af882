"""The cutover ledger: what the cutover must remember between runs, as one JSON file.

``<output_dir>/<customer-slug>/cutover-ledger.json``::

    {"dns_published_at": {"acme.test": "2026-11-27T03:10:00+00:00"},
     "cutover_id": "20261127T041500Z", "started_at": "...", "completed_at": null}

``dns_published_at`` is when we first saw the new records on every authoritative server (the
DNS change time the 2×TTL rule counts from; an upper bound of the real change time, so the
wait is never too short). ``cutover_id`` names one cutover across re-runs (the follow-up
verification's idempotency key, and the key of the notices sent for it); it is set when the
cutover first gets ready to ask for approval, ``started_at`` at the hold. Everything else
(held? routed?) is read from the control panel itself, so a lost ledger never causes a
second hold. Writes are atomic (rename).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from onboarding.cutover._exceptions import LedgerError, LedgerMissing
from onboarding.reports import private_dir, write_private

__all__ = [
    "Ledger",
    "ledger_path",
    "load_ledger",
    "noted_mx_ttls",
    "require_ledger",
    "save_ledger",
]

FILE_NAME = "cutover-ledger.json"


@dataclass(frozen=True)
class Ledger:
    """The remembered facts; see the module docstring."""

    dns_published_at: dict[str, datetime] = field(default_factory=dict)
    cutover_id: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None

    def planned(self, now: datetime) -> Ledger:
        """Return the ledger with a cutover id, keeping an existing one: the id exists from
        the moment the cutover is ready to ask for approval, so the notices sent before it
        and the hold after it belong to the same cutover."""
        if self.cutover_id is not None:
            return self
        return replace(self, cutover_id=f"{now:%Y%m%dT%H%M%SZ}")

    def started(self, now: datetime) -> Ledger:
        """Return the ledger with a cutover id and start time, keeping existing ones (a re-run)."""
        if self.started_at is not None:
            return self
        return replace(self.planned(now), started_at=now)

    def completed(self, now: datetime) -> Ledger:
        return replace(self, completed_at=self.completed_at or now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dns_published_at": {
                d: t.isoformat() for d, t in sorted(self.dns_published_at.items())
            },
            "cutover_id": self.cutover_id,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        def when(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        published = {d: datetime.fromisoformat(t) for d, t in data["dns_published_at"].items()}
        return cls(
            dns_published_at=published,
            cutover_id=data.get("cutover_id"),
            started_at=when(data.get("started_at")),
            completed_at=when(data.get("completed_at")),
        )


def ledger_path(output_dir: Path, slug: str) -> Path:
    return Path(output_dir) / slug / FILE_NAME


def load_ledger(path: Path) -> Ledger:
    """Return the ledger at ``path`` (an empty one if absent); raise :class:`LedgerError`."""
    try:
        return Ledger.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return Ledger()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LedgerError(
            f"{path}: not a readable cutover ledger ({exc}); fix or delete it (deleting only "
            "restarts the DNS wait clock)"
        ) from exc


def require_ledger(path: Path, *, started: Sequence[str]) -> Ledger:
    """Return the ledger at ``path``; raise :class:`LedgerMissing` when it is absent although
    the cutover has started (``started``: the domains held or routed to hosted already).

    A missing ledger is fine before the cutover (nothing to remember yet), never after.
    """
    if started and not path.exists():
        raise LedgerMissing(
            f"{path}: the cutover ledger is missing, but the cutover has started "
            f"({', '.join(started)} held or routed to the hosted mailboxes); restore the file, "
            "or move the customer's run folder there if earlier runs wrote it elsewhere "
            "(output_dir is relative to customer.yaml's folder, it used to be the working "
            'directory); only if it is lost for good, create it with {"dns_published_at": {}} '
            "(the follow-up verification may then be scheduled a second time)"
        )
    return load_ledger(path)


def save_ledger(path: Path, ledger: Ledger) -> None:
    """Write the ledger atomically."""
    try:
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        write_private(tmp, json.dumps(ledger.to_dict(), indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise LedgerError(f"{path}: cannot write the cutover ledger: {exc}") from exc


def noted_mx_ttls(output_dir: Path, slug: str) -> dict[str, int]:
    """The largest MX TTL any ``dns-plan`` run noted per domain (its ``dns-plan.json`` files).

    The plan made before the customer's change noted the *old* MX TTL, which is what the
    world's caches may still hold; later plans may note a smaller new TTL, hence the maximum.
    Unreadable plan files are skipped: the TTL the servers publish now still applies.
    """
    found: dict[str, int] = {}
    for path in sorted((Path(output_dir) / slug).glob("*-dns-plan*/dns-plan.json")):
        try:
            domains = json.loads(path.read_text(encoding="utf-8"))["domains"]
            pairs = [(str(d["domain"]), d.get("mx_ttl")) for d in domains]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for domain, ttl in pairs:
            if isinstance(ttl, int):
                found[domain] = max(ttl, found.get(domain, 0))
    return found
