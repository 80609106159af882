"""Sync state in any SQLAlchemy database: UID maps keyed by UIDVALIDITY, intents, leases."""

from __future__ import annotations

__all__ = ["StateStore"]


class StateStore:
    """Where a mailbox pair's progress lives between runs (``sqlite:///path`` or any URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
