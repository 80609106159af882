"""Write a corpus into the source Dovecot's Maildirs, then let Dovecot index and count it.

Messages are written as Maildir files directly (much faster than IMAP APPEND for the bench
profile): the INTERNALDATE is the file's mtime, system flags are the ``:2,`` letters of the
file name and keywords are letters mapped by the folder's ``dovecot-keywords`` file (Dovecot's
Maildir format). Afterwards ``doveadm mailbox status`` makes Dovecot index every folder, and
its counts are checked against the plan, so a seed that returns is a seed that is complete.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import imap_utf7

from lab._dovecot import SourceServer
from lab._dovecot_conf import MAIL_GID, MAIL_UID
from lab._errors import LabError
from lab.corpus import CorpusMessage, CorpusPlan, FolderSpec, MailboxSpec, messages
from lab.gmail_corpus import GMAIL_PROFILE, gmail_messages

__all__ = ["SeedReport", "maildir_folder", "seed_source"]

_FLAG_LETTERS = {r"\Draft": "D", r"\Flagged": "F", r"\Answered": "R", r"\Seen": "S"}


@dataclass(frozen=True)
class SeedReport:
    """What was seeded: per user and folder message counts, and the users' passwords."""

    profile: str
    seed: int
    counts: dict[str, dict[str, int]]
    passwords: dict[str, str] = field(repr=False)

    @property
    def total(self) -> int:
        return sum(sum(folders.values()) for folders in self.counts.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "seed": self.seed,
            "total": self.total,
            "counts": self.counts,
            "passwords": self.passwords,
        }


def maildir_folder(root: Path, name: str) -> Path:
    """The Maildir++ folder of IMAP name ``name`` (``/``-separated, UTF-8) under ``root``."""
    if name.upper() == "INBOX":
        return root
    parts = name.split("/")
    if any("." in p or not p for p in parts):
        raise ValueError(f"folder {name!r}: Maildir++ names cannot contain '.' or empty levels")
    return root / ("." + ".".join(imap_utf7.encode(p).decode("ascii") for p in parts))


def _chown_tree(path: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, MAIL_UID, MAIL_GID)
        for name in (*dirnames, *filenames):
            os.lchown(os.path.join(dirpath, name), MAIL_UID, MAIL_GID)


def _folder_messages(
    corpus: CorpusPlan, mailbox: MailboxSpec, folder: FolderSpec
) -> Iterator[CorpusMessage]:
    if corpus.profile == GMAIL_PROFILE:
        return gmail_messages(corpus, mailbox, folder)
    return messages(corpus, mailbox, folder)


def _write_folder(corpus: CorpusPlan, mailbox: MailboxSpec, folder: FolderSpec, root: Path) -> None:
    path = maildir_folder(root, folder.name)
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    if path != root:
        (path / "maildirfolder").touch()
    letters: dict[str, str] = {}
    for i, message in enumerate(_folder_messages(corpus, mailbox, folder)):
        for keyword in message.keywords:
            if keyword not in letters:
                letters[keyword] = chr(ord("a") + len(letters))
        info = "".join(sorted(_FLAG_LETTERS[f] for f in message.flags if f in _FLAG_LETTERS))
        info += "".join(sorted(letters[k] for k in message.keywords))
        stamp = int(message.internaldate.timestamp())
        name = f"{stamp}.M{i:06d}P0.mailroute-lab,S={len(message.raw)}:2,{info}"
        file = path / "cur" / name
        file.write_bytes(message.raw)
        os.utime(file, (stamp, stamp))
    if letters:
        (path / "dovecot-keywords").write_text(
            "".join(f"{ord(letter) - ord('a')} {kw}\n" for kw, letter in letters.items())
        )


def _folder_counts(server: SourceServer, email: str) -> dict[str, int]:
    out = server.doveadm("-f", "tab", "mailbox", "status", "-u", email, "messages", "*")
    counts: dict[str, int] = {}
    for line in out.splitlines()[1:]:
        name, _, value = line.rpartition("\t")
        if name:
            counts[name] = int(value)
    return counts


def _seed_mailbox(server: SourceServer, corpus: CorpusPlan, mailbox: MailboxSpec) -> None:
    server.wipe_mail(mailbox.email)
    home = server.layout.home(mailbox.email)
    root = server.maildir(mailbox.email)
    root.mkdir(parents=True, exist_ok=True)
    for folder in mailbox.folders:
        _write_folder(corpus, mailbox, folder, root)
    _chown_tree(home)
    expected = {f.name: f.count for f in mailbox.folders}
    found = _folder_counts(server, mailbox.email)  # also makes Dovecot index the folders
    missing = {
        name: (count, found.get(name))
        for name, count in expected.items()
        if found.get(name) != count
    }
    if missing:
        raise LabError(
            f"seeding {mailbox.email}: Dovecot counts differ from the plan "
            f"(folder: (planned, found)): {missing}"
        )


def seed_source(
    server: SourceServer, corpus: CorpusPlan, record: Path, *, workers: int = 2
) -> SeedReport:
    """Replace the mail of every planned mailbox with the corpus; return what was seeded.

    Users that do not exist on the source are created with the plan's password; existing
    users keep theirs. The report is also written to ``record`` (JSON) for other processes.
    """
    existing = server.users()
    for mailbox in corpus.mailboxes:
        if mailbox.email not in existing:
            server.add_user(mailbox.email, mailbox.password)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(_seed_mailbox, server, corpus, m) for m in corpus.mailboxes]:
            future.result()
    users = server.users()
    report = SeedReport(
        corpus.profile,
        corpus.seed,
        corpus.counts(),
        {m.email: users[m.email] for m in corpus.mailboxes},
    )
    tmp = record.with_name(f"{record.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, record)
    return report
