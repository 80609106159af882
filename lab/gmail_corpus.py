"""The ``gmail`` seed profile: a mailbox shaped the way Gmail shows itself over IMAP (pure).

Gmail stores each message once and shows it in one IMAP folder per label (issue 10):

* label folders (``INBOX``, ``Work``, ``Work/Clients``, ``Receipts``, ``Travel``) and
  ``[Gmail]/Sent Mail`` (``\\Sent``), ``[Gmail]/Drafts`` (``\\Drafts``); a message with two
  labels is in two folders, byte-identical with the same INTERNALDATE and flags;
* ``[Gmail]/All Mail`` (``\\All``) holds every message once, Spam and Trash excepted, so
  archived messages (no label) are only there;
* ``[Gmail]/Starred`` (``\\Flagged``) holds the starred messages, which carry ``\\Flagged``
  in every folder; ``[Gmail]/Important`` (``\\Important``, RFC 8457) the important ones;
* ``[Gmail]/Spam`` (``\\Junk``) and ``[Gmail]/Trash`` (``\\Trash``), in no other folder.

Stock Dovecot cannot advertise ``X-GM-EXT-1``; a client recognises this source by the
``\\All`` attribute and the ``[Gmail]/`` names. The seeder writes the copies as Maildir files,
so every IMAP client sees the same folders as on Gmail. :data:`GMAIL_EXPECTED` is what a
migration by the engine's Gmail rules (docs/gmail.md) leaves at the destination.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from lab.corpus import (
    DEFAULT_SEED,
    DEFAULT_USERS,
    CorpusMessage,
    CorpusPlan,
    FolderSpec,
    MailboxSpec,
    messages,
    plan,
)

__all__ = [
    "ALL_MAIL",
    "GMAIL_EXPECTED",
    "GMAIL_PROFILE",
    "IMPORTANT",
    "STARRED",
    "GmailMessage",
    "gmail_messages",
    "gmail_plan",
    "gmail_pool",
]

GMAIL_PROFILE = "gmail"
ALL_MAIL = "[Gmail]/All Mail"
STARRED = "[Gmail]/Starred"
IMPORTANT = "[Gmail]/Important"
_SENT = "[Gmail]/Sent Mail"
_DRAFTS = "[Gmail]/Drafts"
_SPAM = "[Gmail]/Spam"
_TRASH = "[Gmail]/Trash"
_NOT_IN_ALL_MAIL = (_SPAM, _TRASH)

# (pool, index) -> labels; pools: r = received, s = sent, d = drafts. No label = archived.
_LABELS: dict[tuple[str, int], tuple[str, ...]] = {
    **{("r", i): ("INBOX",) for i in range(10)},
    ("r", 10): ("INBOX", "Work"),
    ("r", 11): ("INBOX", "Work"),
    **{("r", i): ("Work",) for i in (12, 13, 14)},
    ("r", 15): ("Work/Clients",),
    ("r", 16): ("Work/Clients",),
    ("r", 17): ("Work", "Work/Clients"),
    ("r", 18): ("Receipts",),
    ("r", 19): ("Receipts",),
    ("r", 20): ("INBOX", "Receipts", "Travel"),
    ("r", 21): ("Travel",),
    **{("r", i): () for i in range(22, 28)},  # archived: only in All Mail
    ("r", 28): (_SPAM,),
    ("r", 29): (_TRASH,),
    **{("s", i): (_SENT,) for i in range(5)},
    ("s", 5): (_SENT, "Work"),
    ("d", 0): (_DRAFTS,),
    ("d", 1): (_DRAFTS,),
}
_STARRED = frozenset({("r", 1), ("r", 10), ("r", 20), ("r", 22), ("r", 23), ("s", 0)})
_IMPORTANT = frozenset({("r", 0), ("r", 1), ("r", 2), ("r", 10), ("r", 12), ("r", 20), ("r", 22)})
# Messages without a Message-ID: content identity must still find their other copies.
_NO_MESSAGE_ID = frozenset({("r", 11), ("r", 24)})
_POOLS = {"r": ("Gmail received", None), "s": (_SENT, r"\Sent"), "d": (_DRAFTS, r"\Drafts")}
_MSGID_LINE = re.compile(rb"^Message-ID: [^\n]*\n", re.MULTILINE)

# What the destination holds after a migration by the Gmail rules: every label folder
# copied, Spam/Trash by the usual rules, archived messages in Archive, Starred and
# Important not folders (their messages are in their labels; starred ones flagged).
GMAIL_EXPECTED: dict[str, int] = {
    "INBOX": 13,
    "Work": 7,
    "Work/Clients": 3,
    "Receipts": 3,
    "Travel": 2,
    "Sent": 6,
    "Drafts": 2,
    "Junk": 1,
    "Trash": 1,
    "Archive": 6,
}


@dataclass(frozen=True)
class GmailMessage:
    """One message of the mailbox, stored once: its labels, and whether starred/important."""

    key: tuple[str, int]
    message: CorpusMessage
    labels: tuple[str, ...]
    starred: bool
    important: bool

    def folders(self) -> tuple[str, ...]:
        """Every IMAP folder Gmail shows this message in."""
        out = list(self.labels)
        if not any(label in _NOT_IN_ALL_MAIL for label in self.labels):
            out.append(ALL_MAIL)
            out += [STARRED] if self.starred else []
            out += [IMPORTANT] if self.important else []
        return tuple(out)


def gmail_pool(corpus: CorpusPlan, mailbox: MailboxSpec) -> list[GmailMessage]:
    """The mailbox's messages, each once, with their labels (deterministic)."""
    out: list[GmailMessage] = []
    for pool, (name, use) in _POOLS.items():
        count = 1 + max(i for p, i in _LABELS if p == pool)
        for i, m in enumerate(messages(corpus, mailbox, FolderSpec(name, count, use))):
            key = (pool, i)
            raw = _MSGID_LINE.sub(b"", m.raw) if key in _NO_MESSAGE_ID else m.raw
            flags = tuple(f for f in m.flags if f != r"\Flagged")
            flags += (r"\Flagged",) if key in _STARRED else ()
            message = replace(
                m,
                raw=raw,
                flags=flags,
                message_id=None if key in _NO_MESSAGE_ID else m.message_id,
            )
            out.append(GmailMessage(key, message, _LABELS[key], key in _STARRED, key in _IMPORTANT))
    return out


def gmail_plan(users: Sequence[str] | None = None, *, seed: int = DEFAULT_SEED) -> CorpusPlan:
    """The ``gmail`` profile's plan: one Gmail-shaped mailbox per user (default: the first)."""
    base = plan("small", list(users) if users else [DEFAULT_USERS[0]], seed=seed)
    mailboxes = []
    for mailbox in base.mailboxes:
        counts: dict[str, int] = {}
        for gm in gmail_pool(base, mailbox):
            for folder in gm.folders():
                counts[folder] = counts.get(folder, 0) + 1
        folders = tuple(FolderSpec(name, n) for name, n in sorted(counts.items()))
        mailboxes.append(replace(mailbox, style="gmail", folders=folders))
    return CorpusPlan(GMAIL_PROFILE, seed, tuple(mailboxes))


def gmail_messages(
    corpus: CorpusPlan, mailbox: MailboxSpec, folder: FolderSpec
) -> Iterator[CorpusMessage]:
    """The copies Gmail shows in ``folder`` (the same bytes, date and flags in every folder)."""
    for gm in gmail_pool(corpus, mailbox):
        if folder.name in gm.folders():
            yield replace(gm.message, folder=folder.name)
