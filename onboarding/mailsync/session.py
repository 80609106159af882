"""Opening both sides of a pair, and the shared look at their folders. No writes.

Used by pre-flight, plan and sync, so all three see the same folder map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onboarding.mailsync.folders import Namespace, build_folder_map
from onboarding.mailsync.gmail import GmailSource, as_archive, detect_gmail, gmail_plans
from onboarding.mailsync.imap import ImapSession, ListEntry, Side
from onboarding.mailsync.models import Endpoint, FolderPlan, MailboxPair, SyncOptions

__all__ = ["Connector", "FolderView", "folder_view", "open_session"]

Connector = Callable[[Endpoint, Side], ImapSession]


def open_session(endpoint: Endpoint, side: Side) -> ImapSession:
    """Default connector: a real connection, logged in."""
    return ImapSession(endpoint, side).open()


@dataclass(frozen=True)
class FolderView:
    """Both sides' folders and the folder map between them."""

    source_folders: tuple[ListEntry, ...]
    source_ns: Namespace
    destination_folders: tuple[ListEntry, ...]
    destination_ns: Namespace
    plans: tuple[FolderPlan, ...]
    gmail: GmailSource | None = None


def _view(session: ImapSession) -> tuple[list[ListEntry], Namespace]:
    entries, (prefix, delim) = session.folders_and_namespace()
    if delim is None:
        delim = next((e.delimiter for e in entries if e.delimiter), "/")
    return entries, Namespace(prefix, delim)


def folder_view(
    pair: MailboxPair, options: SyncOptions, src: ImapSession, dst: ImapSession
) -> FolderView:
    """LIST both sides and build the folder map (by Gmail's rules for a Gmail source)."""
    del pair
    src_entries, src_ns = _view(src)
    dst_entries, dst_ns = _view(dst)
    gmail = detect_gmail(src.capabilities, src_entries)
    plans = build_folder_map(
        as_archive(src_entries, gmail) if gmail else src_entries,
        src_ns,
        dst_entries,
        dst_ns,
        exclude_trash_and_junk=options.exclude_trash_and_junk,
        exclude_folders=options.exclude_folders,
        folder_renames=options.folder_renames,
    )
    if gmail is not None:
        plans = gmail_plans(plans, gmail)
    return FolderView(tuple(src_entries), src_ns, tuple(dst_entries), dst_ns, plans, gmail)
