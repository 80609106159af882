"""A deterministic, realistic mail corpus for the lab's source server (pure; no I/O).

``plan(profile, users)`` says which mailboxes and folders get how many messages;
``messages(plan, mailbox, folder)`` yields the messages themselves. The same profile, users
and seed always give byte-identical messages, so migration tests can assert completeness
against :meth:`CorpusPlan.counts`.

What the corpus contains on purpose (the things migrations get wrong):

* nested folders (``Projects/Alpha/Specs``), empty folders (``Empty``, ``Archive/Empty 2019``);
* special-use folders under provider and localized names: ``Sent Items`` (Exchange),
  ``[Gmail]/Sent Mail`` (Gmail), ``Gesendet``/``Entwürfe`` (German), ``Sent`` (Dovecot);
* non-ASCII folder names (``Projekte/Überblick``, ``Отчёты``, ``日本語``): modified UTF-7 on the
  wire (RFC 3501 section 5.1.3);
* system flags and keywords (``$Forwarded``, ``$Junk``, ``Project-X``, ``Wichtig``);
* INTERNALDATEs spread over 2005-2025, with Date headers that sometimes disagree;
* messages without Message-ID, duplicate Message-IDs (in one folder and across folders);
* 8-bit headers (raw UTF-8), malformed headers (no colon, bad encoded-words, bad dates,
  a 2,000-character line), and one message of more than 20 MB in the first mailbox's INBOX.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

__all__ = [
    "BIG_MESSAGE_BYTES",
    "DEFAULT_SEED",
    "DEFAULT_USERS",
    "PROFILES",
    "CorpusMessage",
    "CorpusPlan",
    "FolderSpec",
    "MailboxSpec",
    "messages",
    "plan",
]

DEFAULT_SEED = 20240607
BIG_MESSAGE_BYTES = 21 * 1024 * 1024  # "20 MB and more"
# The example customer's users (examples/acme/users.csv; a test keeps the two in step).
DEFAULT_USERS: tuple[str, ...] = (
    "alice.adams@acme.test",
    "bob.baker@acme.test",
    "carol.chen@acme.test",
    "dave.diaz@acme.test",
    "erin.evans@acme.test",
    "frank.fischer@acme.test",
    "grace.garcia@acme.test",
    "henry.hughes@acme.test",
    "irene.ito@acme.test",
    "jack.jensen@acme.test",
    "kate.kowalski@acme.test",
    "liam.lopez@acme.test",
    "maria.moreau@acme.test",
    "noah.nakamura@acme.test",
    "olivia.olsen@acme.test",
    "peter.park@acme.test",
    "info@acme-mail.test",
    "sales@acme-mail.test",
    "support@acme-mail.test",
    "billing@acme-mail.test",
    "tom.tanaka@acme-mail.test",
    "uma.usman@acme-mail.test",
)

# Provider styles: where each kind of special folder lives (cycled over the mailboxes).
_STYLES: dict[str, dict[str, str]] = {
    "exchange": {
        "sent": "Sent Items",
        "drafts": "Drafts",
        "trash": "Deleted Items",
        "junk": "Junk E-mail",
    },
    "gmail": {
        "sent": "[Gmail]/Sent Mail",
        "drafts": "[Gmail]/Drafts",
        "trash": "[Gmail]/Trash",
        "junk": "[Gmail]/Spam",
    },
    "german": {"sent": "Gesendet", "drafts": "Entwürfe", "trash": "Papierkorb", "junk": "Spam"},
    "dovecot": {"sent": "Sent", "drafts": "Drafts", "trash": "Trash", "junk": "Junk"},
}
_SPECIAL_USE = {"sent": r"\Sent", "drafts": r"\Drafts", "trash": r"\Trash", "junk": r"\Junk"}

# (kind or folder name, messages in "small", messages in "bench" for an ordinary mailbox)
_LAYOUT: tuple[tuple[str, int, int], ...] = (
    ("INBOX", 14, 700),
    ("sent", 5, 300),
    ("drafts", 2, 20),
    ("trash", 2, 100),
    ("junk", 1, 50),
    ("Archive/2023", 4, 150),
    ("Archive/2024", 3, 100),
    ("Archive/Empty 2019", 0, 0),
    ("Projects/Alpha/Specs", 2, 30),
    ("Projekte/Überblick", 2, 20),
    ("Отчёты", 1, 10),
    ("日本語", 1, 10),
    ("Empty", 0, 0),
)
_BENCH_BIG_INBOX = 10_500  # one folder of at least 10,000 messages
_BENCH_MIN_MAILBOXES = 20


@dataclass(frozen=True)
class FolderSpec:
    """One folder: IMAP name (UTF-8, ``/`` separated), message count, SPECIAL-USE flag."""

    name: str
    count: int
    special_use: str | None = None


@dataclass(frozen=True)
class MailboxSpec:
    email: str
    password: str = field(repr=False)
    style: str
    folders: tuple[FolderSpec, ...]

    @property
    def total(self) -> int:
        return sum(f.count for f in self.folders)


@dataclass(frozen=True)
class CorpusPlan:
    """What a profile seeds; ``counts()`` is what a complete migration must reproduce."""

    profile: str
    seed: int
    mailboxes: tuple[MailboxSpec, ...]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{email: {folder: messages}}``, empty folders included (count 0)."""
        return {m.email: {f.name: f.count for f in m.folders} for m in self.mailboxes}

    @property
    def total(self) -> int:
        return sum(m.total for m in self.mailboxes)

    def mailbox(self, email: str) -> MailboxSpec:
        return next(m for m in self.mailboxes if m.email == email.lower())


@dataclass(frozen=True)
class CorpusMessage:
    """One message to store: raw RFC 5322 bytes (LF line ends, as Maildir keeps them)."""

    folder: str
    raw: bytes
    internaldate: datetime
    flags: tuple[str, ...] = ()  # IMAP system flags, e.g. "\\Seen"
    keywords: tuple[str, ...] = ()
    message_id: str | None = field(default=None)


PROFILES = ("small", "bench")


def _password(seed: int, email: str) -> str:
    rng = random.Random(f"{seed}:password:{email}")
    return "Src-" + "".join(
        rng.choice("abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ2345679") for _ in range(14)
    )


def plan(
    profile: str, users: Sequence[str] | None = None, *, seed: int = DEFAULT_SEED
) -> CorpusPlan:
    """Return the corpus plan of ``profile`` (``small`` or ``bench``) for ``users``.

    ``users`` defaults to the first 3 example users for ``small`` and all 22 for ``bench``.
    Raises ValueError for an unknown profile or too few mailboxes for ``bench``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown corpus profile {profile!r}; use one of {', '.join(PROFILES)}")
    if users is None:
        users = DEFAULT_USERS[:3] if profile == "small" else DEFAULT_USERS
    emails = [u.strip().lower() for u in users]
    if len(set(emails)) != len(emails) or not emails:
        raise ValueError("corpus users must be distinct and at least one")
    if profile == "bench" and len(emails) < _BENCH_MIN_MAILBOXES:
        raise ValueError(f"the bench profile needs at least {_BENCH_MIN_MAILBOXES} mailboxes")
    styles = list(_STYLES)
    mailboxes = []
    for n, email in enumerate(emails):
        style = styles[n % len(styles)]
        folders = []
        for kind, small, bench in _LAYOUT:
            count = small if profile == "small" else bench
            if profile == "bench" and n == 0 and kind == "INBOX":
                count = _BENCH_BIG_INBOX
            name = _STYLES[style].get(kind, kind)
            folders.append(FolderSpec(name, count, _SPECIAL_USE.get(kind)))
        mailboxes.append(MailboxSpec(email, _password(seed, email), style, tuple(folders)))
    return CorpusPlan(profile, seed, tuple(mailboxes))


# -- message content ---------------------------------------------------------------------

_FIRST = [
    "Anna",
    "Björn",
    "Chloé",
    "Dmitri",
    "Eva",
    "Fumiko",
    "Gustavo",
    "Hannah",
    "Ivan",
    "Jürgen",
    "Kenji",
    "Léa",
    "Mateo",
    "Nora",
    "Olaf",
    "Priya",
    "Quentin",
    "Rosa",
]
_LAST = ["Müller", "Smith", "Dubois", "Tanaka", "García", "Nowak", "Ivanova", "Rossi", "Khan"]
_SUBJECTS = [
    "Quarterly report",
    "Lunch on Friday?",
    "Invoice {n}",
    "Re: Project-X timeline",
    "Fwd: Contract draft",
    "Meeting notes {n}",
    "Angebot Nr. {n}",
    "Besprechung morgen",
    "Réunion de lundi",
    "見積書の件",
    "Отчёт за квартал",
    "Holiday schedule",
    "Server maintenance window",
    "Your order #{n} has shipped",
]
_WORD_TEXT = (
    "the of and to in a is that for it as was with be by on not he this are or his from "
    "at which but have an they you were her she there been one all we their has would "
    "when if so no will what up can out more about into than them only other new some "
    "could time these two may then first any my now such like our over man me even most "
    "made after also did many before must through back years where much your way well "
    "Grüße Rechnung Übersicht naïve café 日本 привет"
)
_WORDS = tuple(_WORD_TEXT.split(" "))
_KEYWORDS = ("$Forwarded", "$Junk", "$NotJunk", "Project-X", "Wichtig", "$label1")


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _body(rng: random.Random, words: int) -> str:
    lines, line = [], []
    for _ in range(words):
        line.append(rng.choice(_WORDS))
        if len(line) >= 12:
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\n".join(lines) + "\n"


def _internaldate(rng: random.Random) -> datetime:
    start = datetime(2005, 1, 1, tzinfo=UTC)
    span = int((datetime(2025, 6, 30, tzinfo=UTC) - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span))


def _big_attachment(seed: int) -> str:
    raw_size = BIG_MESSAGE_BYTES * 3 // 4 + 4096  # base64 grows by 4/3
    data = random.Random(f"{seed}:big").randbytes(raw_size)
    encoded = base64.encodebytes(data).decode("ascii")
    return encoded


def messages(
    corpus: CorpusPlan, mailbox: MailboxSpec, folder: FolderSpec
) -> Iterator[CorpusMessage]:
    """Yield ``folder.count`` messages of ``mailbox``'s ``folder``, deterministically."""
    domain = mailbox.email.rsplit("@", 1)[1]
    first_mailbox = corpus.mailboxes[0].email == mailbox.email
    for i in range(folder.count):
        rng = random.Random(f"{corpus.seed}:{mailbox.email}:{folder.name}:{i}")
        yield _message(
            rng,
            corpus.seed,
            mailbox,
            folder,
            i,
            domain,
            big=first_mailbox and folder.name == "INBOX" and i == 0,
        )


def _message(
    rng: random.Random,
    seed: int,
    mailbox: MailboxSpec,
    folder: FolderSpec,
    i: int,
    domain: str,
    *,
    big: bool,
) -> CorpusMessage:
    when = _internaldate(rng)
    sent = folder.special_use in (r"\Sent", r"\Drafts")
    other = f"{_name(rng)} <{rng.choice(_FIRST).lower()}@example.test>"
    me = f"{mailbox.email.split('@')[0].replace('.', ' ').title()} <{mailbox.email}>"
    sender, recipient = (me, other) if sent else (other, me)
    n = rng.randrange(1000, 99999)
    subject = rng.choice(_SUBJECTS).format(n=n)
    message_id: str | None = f"<{rng.getrandbits(64):016x}.{i}@{domain}>"
    tz = timezone(timedelta(hours=rng.choice([-8, -5, 0, 1, 2, 5.5, 9])))
    date_header = format_datetime(when.astimezone(tz) - timedelta(minutes=rng.randrange(0, 90)))
    headers: list[str] = []
    body_8bit = False
    # Fixed positions make every oddity certain to exist in every folder with enough mail;
    # the random draws add more of them at realistic rates.
    roll = rng.random()
    if (folder.name == "INBOX" and i == 5) or roll < 0.03:
        message_id = None
    elif (folder.name == "INBOX" and i in (3, 4)) or roll < 0.05:
        message_id = f"<duplicate-{(i % 3)}@{domain}>"
    elif folder.special_use == r"\Sent" and i == 1:
        message_id = f"<duplicate-0@{domain}>"  # the same message in INBOX and Sent
    if folder.name == "INBOX" and i == 6:
        headers.append(f"Subject: Grüße aus Köln – {n}")  # raw 8-bit header
        headers.append("X-Broken-Header-Without-Colon")
        body_8bit = True
    elif folder.name == "INBOX" and i == 7:
        headers.append(f"Subject: =?utf-8?q?unterminated_encoded_word_{n}")
        date_header = "yesterday at noon"
    elif folder.name == "INBOX" and i == 8:
        headers.append(f"Subject: {subject}")
        headers.append(
            "X-Long-Header: " + " ".join(_WORDS[j % len(_WORDS)] for j in range(400))[:2000]
        )
    elif rng.random() < 0.08:
        headers.append(f"Subject: {subject}")  # raw UTF-8 where the subject has it
        body_8bit = True
    else:
        encoded = base64.b64encode(subject.encode()).decode()
        headers.append(
            f"Subject: =?utf-8?b?{encoded}?=" if not subject.isascii() else f"Subject: {subject}"
        )
    head = [f"From: {sender}", f"To: {recipient}", f"Date: {date_header}"]
    if message_id is not None:
        head.append(f"Message-ID: {message_id}")
    head += headers
    head.append("MIME-Version: 1.0")
    text = _body(rng, rng.randrange(20, 400))
    if big or rng.random() < 0.05:
        boundary = f"=_lab_{rng.getrandbits(48):012x}"
        attachment = (
            _big_attachment(seed)
            if big
            else base64.encodebytes(rng.randbytes(rng.randrange(2000, 15000))).decode("ascii")
        )
        head.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        body = (
            f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            f"{text}\n--{boundary}\nContent-Type: application/octet-stream\n"
            f'Content-Disposition: attachment; filename="data-{n}.bin"\n'
            f"Content-Transfer-Encoding: base64\n\n{attachment}\n--{boundary}--\n"
        )
    else:
        head.append("Content-Type: text/plain; charset=utf-8")
        head.append(
            "Content-Transfer-Encoding: 8bit"
            if body_8bit or not text.isascii()
            else "Content-Transfer-Encoding: 7bit"
        )
        body = text
    raw = ("\n".join(head) + "\n\n" + body).encode("utf-8")
    flags: list[str] = []
    if folder.special_use == r"\Drafts":
        flags.append(r"\Draft")
    elif sent or rng.random() < 0.7:
        flags.append(r"\Seen")
    if rng.random() < 0.1:
        flags.append(r"\Answered")
    if rng.random() < 0.05 or (folder.name == "INBOX" and i == 2):
        flags.append(r"\Flagged")
    keywords: tuple[str, ...] = ()
    if rng.random() < 0.1 or (folder.name == "INBOX" and i == 1):
        keywords = tuple(sorted(rng.sample(_KEYWORDS, rng.randrange(1, 3))))
    return CorpusMessage(folder.name, raw, when, tuple(flags), keywords, message_id)
