"""Dry run: the folder map with counts and sizes, and what would be skipped and why.

Writes nothing anywhere: no CREATE on the destination, no state store, and the source is only
EXAMINEd (read-only). Per-message sizes are read so messages over the limit are listed.
"""

from __future__ import annotations

from dataclasses import replace

from onboarding.mailsync.models import FolderPlan, MailboxPair, SyncOptions, SyncPlan
from onboarding.mailsync.session import Connector, folder_view, open_session
from onboarding.mailsync.wire import Token

__all__ = ["plan", "size_limit"]


def size_limit(options: SyncOptions, destination_capabilities: frozenset[str]) -> int:
    """The largest message that will be copied: the option, lowered by APPENDLIMIT (RFC 7889)."""
    limit = options.max_message_bytes
    for cap in destination_capabilities:
        if cap.startswith("APPENDLIMIT=") and cap[12:].isdigit():
            limit = min(limit, int(cap[12:]))
    return limit


def _int(tok: Token) -> int:
    return int(tok) if isinstance(tok, bytes) and tok.isdigit() else 0


def plan(
    pair: MailboxPair, options: SyncOptions, *, connector: Connector = open_session
) -> SyncPlan:
    """Return what a pass would do; writes nothing anywhere (not even the state store)."""
    src = connector(pair.source, "source")
    try:
        dst = connector(pair.destination, "destination")
        try:
            view = folder_view(pair, options, src, dst)
            limit = size_limit(options, dst.capabilities)
        finally:
            dst.logout()
        existing = {e.name for e in view.destination_folders}
        out: list[FolderPlan] = []
        for fp in view.plans:
            if fp.action == "error" and fp.destination is None and fp.reason.startswith("name"):
                out.append(fp)
                continue
            flags = next((e.flags for e in view.source_folders if e.name == fp.source), ())
            if any(f.upper() in ("\\NOSELECT", "\\NONEXISTENT") for f in flags):
                out.append(fp)
                continue
            info = src.select(fp.source, readonly=True)
            sizes: list[int] = []
            if info.exists:
                sizes = [
                    _int(it.get("RFC822.SIZE"))
                    for it in src.uid_fetch(b"1:*", b"(UID RFC822.SIZE)")
                    if "RFC822.SIZE" in it
                ]
            big = [s for s in sizes if s > limit]
            notes = fp.notes
            if fp.action == "copy" and fp.destination not in existing:
                notes = (*notes, "will be created (and subscribed) at the destination")
            if big:
                notes = (*notes, f"{len(big)} message(s) over {limit:,} bytes will be skipped")
            out.append(
                replace(
                    fp,
                    notes=notes,
                    messages=len(sizes),
                    bytes=sum(sizes),
                    too_big=len(big),
                    too_big_bytes=sum(big),
                )
            )
        return SyncPlan(pair.mailbox, options.pass_kind, tuple(out))
    finally:
        src.logout()
