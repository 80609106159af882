"""Messages that break a connection, remembered across the reconnects of one pass.

A "poison" message makes the destination drop the connection each time it is sent (or the
source announce an impossible literal for it). Redoing the folder after a reconnect would hit
it again and again until the retries run out, failing the whole mailbox on every pass. So:

1. a drop while messages were in flight makes them *suspects*; the redo sends each suspect
   alone, so the next drop names exactly one message;
2. a message in flight at :data:`DROPS_TO_FAIL` drops is *condemned*: later tries of the pass
   record it as failed with the server's last words and copy the rest.

A new pass starts with an empty log, so a condemned message is tried again then.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

__all__ = ["DROPS_TO_FAIL", "PoisonLog"]

DROPS_TO_FAIL = 2


class PoisonLog:
    """Suspects and condemned messages by (source folder, source UID), for one pass."""

    def __init__(self) -> None:
        self.drops: Counter[tuple[str, int]] = Counter()
        self.suspects: defaultdict[str, set[int]] = defaultdict(set)
        # (folder, uid) → (error class, reason, Message-ID if it was read)
        self.condemned: dict[tuple[str, int], tuple[str, str, str | None]] = {}
        self.progress = False  # a message was condemned since :meth:`take_progress`

    def dropped(
        self, folder: str, uids: Iterable[int], last_words: str, mids: Mapping[int, str | None]
    ) -> None:
        """The connection dropped while ``uids`` of ``folder`` were in flight (``mids``: their
        Message-IDs, as far as known)."""
        for uid in uids:
            self.suspects[folder].add(uid)
            self.drops[folder, uid] += 1
            if self.drops[folder, uid] >= DROPS_TO_FAIL:
                self.condemn(
                    folder,
                    uid,
                    "PoisonMessage",
                    f"the destination dropped the connection {self.drops[folder, uid]} times "
                    f"while this message was being sent; its last words: {last_words}",
                    mids.get(uid),
                )

    def condemn(self, folder: str, uid: int, cls: str, reason: str, mid: str | None = None) -> None:
        """Record ``uid`` of ``folder`` as failed for the rest of the pass (class, reason)."""
        if (folder, uid) not in self.condemned:
            self.condemned[folder, uid] = (cls, reason, mid)
            self.progress = True

    def reason(self, folder: str, uid: int) -> tuple[str, str, str | None] | None:
        """Why ``uid`` is condemned (error class, reason, Message-ID), or None if it may be
        tried."""
        return self.condemned.get((folder, uid))

    def take_progress(self) -> bool:
        """True once after a message was condemned (the retry budget may start over)."""
        progress, self.progress = self.progress, False
        return progress
