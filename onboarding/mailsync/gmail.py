"""Gmail as a source: labels become folders, All Mail only what no label holds (issue 10).

Gmail stores a message once and shows it in one IMAP folder per label, plus ``[Gmail]/All
Mail`` (``\\All``, RFC 6154), which holds every message except Spam and Trash. Copying every
folder as it is would store each labelled message twice and fill the quota with copies. The
rules (docs/gmail.md), chosen so the user finds the mail where Gmail showed it:

- each label folder, INBOX, Sent Mail, Drafts is copied (a message with two labels is in two
  folders, as in any IMAP client that showed it); Spam and Trash follow the usual folder rules;
- All Mail goes to the destination's ``\\Archive`` folder, and only its messages that are in no
  copied folder (archived in Gmail) are copied; the others count as source duplicates;
- Starred (``\\Flagged``) is not a folder: Gmail sets ``\\Flagged`` on starred messages in every
  folder, so their copies carry it;
- Important (``\\Important``, RFC 8457) is not a folder: its messages are in their labels or in
  Archive already.

A Gmail source is detected by the ``X-GM-EXT-1`` capability, or (servers that look like Gmail
but cannot advertise it, such as the lab's Dovecot) by an ``\\All`` folder under ``[Gmail]/``
or ``[Google Mail]/``. Which All Mail messages a copied folder holds is decided by ``X-GM-MSGID``
where the server offers it (Gmail's id of the stored message, the same in every label),
otherwise by content identity: Message-ID + INTERNALDATE + size, or, for a message without
Message-ID, a SHA-256 of its main header fields (:func:`~.identity.identity_key`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from imapclient import imap_utf7

from onboarding.mailsync.connection import token_text
from onboarding.mailsync.identity import identity_key, internaldate_epoch, message_id_from_header
from onboarding.mailsync.imap import ImapSession, ListEntry
from onboarding.mailsync.models import FolderOutcome, FolderPlan, GmailOutcome
from onboarding.mailsync.wire import Token

__all__ = [
    "ALL_MAIL_REASON",
    "IMPORTANT_REASON",
    "STARRED_REASON",
    "GmailPass",
    "GmailSource",
    "as_archive",
    "detect_gmail",
    "gmail_plans",
    "identities",
]

_PREFIXES = ("[gmail]/", "[google mail]/")
_IMPORTANT_NAMES = ("important", "wichtig")
_STARRED_NAMES = ("starred", "markiert")
ALL_MAIL_REASON = "Gmail All Mail: only messages in no copied label folder (archived) go to Archive"
STARRED_REASON = "Gmail Starred: not a folder; starred messages carry \\Flagged on their copies"
IMPORTANT_REASON = (
    "Gmail Important: not a folder; its messages are copied with their labels or to Archive"
)
_GM_ITEMS = b"(UID X-GM-MSGID)"  # Gmail IMAP extensions: a message's id, the same in every label
_IDENT_ITEMS = (
    b"(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)])"
)


@dataclass(frozen=True)
class GmailSource:
    """The Gmail folders of a source (raw LIST names) and how it was recognised."""

    all_mail: str
    starred: str | None
    important: str | None
    x_gm_ext: bool

    @property
    def detected_by(self) -> str:
        return "X-GM-EXT-1" if self.x_gm_ext else "\\All folder with [Gmail]/ names"


def _decoded(name: str) -> str:
    try:
        return imap_utf7.decode(name.encode("ascii"))
    except (UnicodeError, ValueError):
        return name


def _flags(entry: ListEntry) -> frozenset[str]:
    return frozenset(f.upper() for f in entry.flags)


def _gmail_named(entry: ListEntry, names: Sequence[str]) -> bool:
    low = _decoded(entry.name).casefold()
    return any(low == p + n for p in _PREFIXES for n in names)


def detect_gmail(capabilities: Iterable[str], entries: Sequence[ListEntry]) -> GmailSource | None:
    """The source's Gmail folders, or None when it is not Gmail (or has no All Mail)."""
    x_gm = "X-GM-EXT-1" in {c.upper() for c in capabilities}
    all_mail = next(
        (
            e
            for e in entries
            if "\\ALL" in _flags(e) and (x_gm or _decoded(e.name).casefold().startswith(_PREFIXES))
        ),
        None,
    )
    if all_mail is None:
        return None
    starred = next(
        (e.name for e in entries if "\\FLAGGED" in _flags(e) or _gmail_named(e, _STARRED_NAMES)),
        None,
    )
    important = next(
        (
            e.name
            for e in entries
            if "\\IMPORTANT" in _flags(e) or _gmail_named(e, _IMPORTANT_NAMES)
        ),
        None,
    )
    return GmailSource(all_mail.name, starred, important, x_gm)


def as_archive(entries: Sequence[ListEntry], gmail: GmailSource) -> list[ListEntry]:
    """The LIST entries with All Mail marked ``\\Archive``: the folder map sends it there."""
    return [
        replace(e, flags=(*(f for f in e.flags if f.upper() != "\\ALL"), "\\Archive"))
        if e.name == gmail.all_mail
        else e
        for e in entries
    ]


def gmail_plans(plans: Sequence[FolderPlan], gmail: GmailSource) -> tuple[FolderPlan, ...]:
    """The folder map with Gmail's rules: All Mail to Archive, Starred and Important excluded."""
    out: list[FolderPlan] = []
    for p in plans:
        if p.source == gmail.all_mail and p.action == "copy":
            p = replace(p, reason=ALL_MAIL_REASON, special_use="\\All")
        elif p.source in (gmail.starred, gmail.important):
            reason = STARRED_REASON if p.source == gmail.starred else IMPORTANT_REASON
            p = replace(p, destination=None, destination_display=None, action="exclude")
            p = replace(p, reason=reason)
        out.append(p)
    return tuple(out)


def identities(items: Iterable[dict[str, Token]]) -> dict[int, str]:
    """Identity by UID from ``UID FETCH`` items: Gmail's ``X-GM-MSGID`` (one id per message,
    the same in every label) where present, else the content identity of the headers."""
    out: dict[int, str] = {}
    for it in items:
        uid = int(token_text(it["UID"]))
        if "X-GM-MSGID" in it:
            out[uid] = "gm:" + token_text(it["X-GM-MSGID"])
            continue
        if "RFC822.SIZE" not in it or "INTERNALDATE" not in it:
            continue  # an unsolicited flag update, not our answer
        head = it.get("HEADER")
        head = head if isinstance(head, bytes) else b""
        when = internaldate_epoch(token_text(it.get("INTERNALDATE")))
        size = int(token_text(it.get("RFC822.SIZE")) or 0)
        mid = message_id_from_header(head)
        fallback = "" if mid else "headers:" + hashlib.sha256(head).hexdigest()
        out[uid] = identity_key(mid, when, size, fallback)
    return out


class GmailPass:
    """What one pass over a Gmail source needs: which All Mail messages a label folder copies."""

    def __init__(self, gmail: GmailSource, plans: Sequence[FolderPlan]) -> None:
        self.gmail = gmail
        self.copied = [p for p in plans if p.action == "copy" and p.source != gmail.all_mail]

    def elsewhere(self, src: ImapSession, plan: FolderPlan) -> frozenset[int]:
        """All Mail UIDs that a copied label folder holds (empty for any other folder).

        Selects other folders (read-only): call it before selecting ``plan``'s folder.
        """
        if plan.source != self.gmail.all_mail:
            return frozenset()
        items = _GM_ITEMS if self.gmail.x_gm_ext else _IDENT_ITEMS
        seen: set[str] = set()
        for p in self.copied:
            if src.select(p.source, readonly=True).exists:
                seen |= set(identities(src.uid_fetch(b"1:*", items)).values())
        if not src.select(plan.source, readonly=True).exists:
            return frozenset()
        found = identities(src.uid_fetch(b"1:*", items))
        return frozenset(uid for uid, ident in found.items() if ident in seen)

    def outcome(self, src: ImapSession, folders: Sequence[FolderOutcome]) -> GmailOutcome:
        """What became of All Mail, Starred and Important in this pass (counts)."""
        names = [n for n in (self.gmail.starred, self.gmail.important) if n is not None]
        status = src.status_many(names, ["MESSAGES"]) if names else {}
        all_mail = next((f for f in folders if f.source == self.gmail.all_mail), None)

        def count(name: str | None) -> int:
            return status.get(name, {}).get("MESSAGES", 0) if name else 0

        return GmailOutcome(
            detected_by=self.gmail.detected_by,
            all_mail=all_mail.in_scope if all_mail else 0,
            in_labels=all_mail.source_duplicates if all_mail else 0,
            archived=(all_mail.in_scope - all_mail.source_duplicates) if all_mail else 0,
            archive_folder=all_mail.destination if all_mail else "",
            starred=count(self.gmail.starred),
            important=count(self.gmail.important),
        )
