"""Pre-flight: log in on both sides, read capabilities and folder sizes; writes nothing.

This is the runbook's "verify source server access" and "approximate mailbox sizes and
counts", measured. Folders are opened with EXAMINE only (never SELECT), and only when the
server cannot report sizes with ``STATUS (SIZE)`` (RFC 8438).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from onboarding.mailsync._exceptions import AuthFailed, ConnectionLost, MailSyncError
from onboarding.mailsync.imap import ImapSession, ListEntry, Side
from onboarding.mailsync.models import (
    Endpoint,
    FolderInfo,
    MailboxPair,
    PreflightReport,
    SidePreflight,
    SyncOptions,
)
from onboarding.mailsync.session import Connector, open_session
from onboarding.mailsync.wire import Token

__all__ = ["CAPABILITIES_OF_INTEREST", "folder_infos", "preflight", "require_app_access"]

CAPABILITIES_OF_INTEREST = (
    "UIDPLUS",
    "CONDSTORE",
    "QRESYNC",
    "SPECIAL-USE",
    "NAMESPACE",
    "MULTIAPPEND",
    "LITERAL+",
    "QUOTA",
    "APPENDLIMIT",
    "STATUS=SIZE",
    "X-GM-EXT-1",
)
_NOSELECT = ("\\NOSELECT", "\\NONEXISTENT")


def folder_infos(session: ImapSession, entries: list[ListEntry]) -> tuple[FolderInfo, ...]:
    """Counts and sizes per selectable folder (STATUS SIZE, else EXAMINE + RFC822.SIZE)."""
    selectable = [e for e in entries if not any(f.upper() in _NOSELECT for f in e.flags)]
    has_size = "STATUS=SIZE" in session.capabilities
    items = ["MESSAGES", "SIZE"] if has_size else ["MESSAGES"]
    stats = session.status_many([e.name for e in selectable], items)
    out: list[FolderInfo] = []
    for e in entries:
        st = stats.get(e.name)
        if st is None:
            out.append(FolderInfo(e.name, e.delimiter, e.flags, None, None))
            continue
        size = st.get("SIZE")
        if size is None and st.get("MESSAGES"):
            session.select(e.name, readonly=True)
            size = sum(
                _int(it.get("RFC822.SIZE"))
                for it in session.uid_fetch(b"1:*", b"(UID RFC822.SIZE)")
                if "RFC822.SIZE" in it
            )
        out.append(FolderInfo(e.name, e.delimiter, e.flags, st.get("MESSAGES"), size or 0))
    return tuple(out)


def _int(tok: Token) -> int:
    return int(tok) if isinstance(tok, bytes) and tok.isdigit() else 0


def _side(pair: MailboxPair, side: Side, connector: Connector) -> SidePreflight:
    ep = pair.source if side == "source" else pair.destination
    host = f"{ep.host}:{ep.port}"
    try:
        session = connector(ep, side)
    except MailSyncError as exc:
        return SidePreflight(
            side, host, False, error_class=type(exc).__name__, error=str(exc), fix=exc.fix
        )
    try:
        caps = tuple(sorted(session.capabilities))
        folders = folder_infos(session, session.list_folders())
        quota = session.storage_quota()
        return SidePreflight(
            side,
            host,
            True,
            capabilities=caps,
            folders=folders,
            quota_used_bytes=quota[0] if quota else None,
            quota_limit_bytes=quota[1] if quota else None,
        )
    except MailSyncError as exc:
        return SidePreflight(
            side, host, False, error_class=type(exc).__name__, error=str(exc), fix=exc.fix
        )
    finally:
        session.logout()


def preflight(
    pair: MailboxPair, options: SyncOptions, *, connector: Connector = open_session
) -> PreflightReport:
    """Return both sides' login result, capabilities and folders; never raises for a login.

    Failures are classified by ``error_class``: ConnectFailed, TLSFailed, AuthFailed,
    IMAPDisabled (and ConnectionLost/ProtocolError for servers that misbehave), each with a fix.
    """
    del options
    return PreflightReport(
        mailbox=pair.mailbox,
        source=_side(pair, "source", connector),
        destination=_side(pair, "destination", connector),
    )


def require_app_access(sources: Iterable[Endpoint], *, connector: Connector = open_session) -> None:
    """Log in to the first one or two OAuth sources before any mailbox starts (``sources``
    is read no further than that, so a caller can hand over every mailbox's, lazily).

    A token endpoint can grant a token for an app the mail server still refuses (Microsoft:
    no ``IMAP.AccessAsApp`` or no service principal; Google: delegation without the IMAP
    scope). Then every mailbox would fail the same way, so the run fails once, with that
    sentence. The server refusing the first mailbox but letting the second in means only
    that mailbox lacks access: it fails on its own, the run goes on. Anything but a refused
    login (a server that does not answer, say) is left to the mailboxes.
    """
    refused: AuthFailed | None = None
    for endpoint in itertools.islice(sources, 2):
        try:
            _log_in_once(endpoint, connector)
            return
        except AuthFailed as exc:
            refused = refused or exc
        except MailSyncError:
            return
    if refused is not None:
        raise refused


def _log_in_once(endpoint: Endpoint, connector: Connector) -> None:
    """Log in and out; a refused cached token (ConnectionLost: dropped from the cache) is
    tried once more with a new one, as a sync would."""
    try:
        connector(endpoint, "source").logout()
    except ConnectionLost:
        connector(endpoint, "source").logout()
