"""Fill a real IMAP mailbox with a small varied corpus, and read a mailbox back exactly.

Tests use :func:`fill` on the lab's source server (as the user, over IMAP) and
:func:`snapshot` on both sides to compare bytes, flags and INTERNALDATE per folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from imapclient import IMAPClient

__all__ = ["Message", "connect", "contents", "digests", "fill", "make_message", "snapshot"]

_FLAGS = (b"\\Seen", b"\\Answered", b"\\Flagged", b"\\Draft", b"$Forwarded", b"Work")


@dataclass(frozen=True)
class Message:
    """One message as read back: its UID, flags (no \\Recent), INTERNALDATE and body digest."""

    uid: int
    flags: frozenset[bytes]
    internaldate: datetime
    sha256: str
    size: int


@contextmanager
def connect(host: str, port: int, login: str, password: str) -> Iterator[IMAPClient]:
    client = IMAPClient(host, port=port, ssl=False, timeout=60)
    if (login + password).isascii():
        client.login(login, password)
    else:  # imaplib's LOGIN encodes as ASCII; PLAIN carries UTF-8 (RFC 4616)
        client.plain_login(login, password)
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):  # the server may be gone in a fault test
            client.logout()


def append_at_one_date(client: IMAPClient, folder: str, *messages: bytes) -> None:
    """Append ``messages`` to the empty ``folder``, each dated with the INTERNALDATE the
    server gave the first (a source duplicate, or different messages alike but for bytes)."""
    first, *rest = messages
    client.append(folder, first)
    client.select_folder(folder)
    when = next(iter(client.fetch(client.search("ALL"), ["INTERNALDATE"]).values()))
    for message in rest:
        client.append(folder, message, msg_time=when[b"INTERNALDATE"])


def make_message(n: int, *, size: int = 0, message_id: bool = True, seed: int = 0) -> bytes:
    """A deterministic RFC 5322 message; ``size`` pads the body to about that many bytes."""
    rng = random.Random(seed * 100_003 + n)
    sent = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=n)
    headers = [
        f"From: Sender {n} <sender{n % 7}@old.example>",
        "To: user@example.test",
        f"Subject: message {n} {'ümlaut' if n % 5 == 0 else 'plain'}",
        f"Date: {sent:%a, %d %b %Y %H:%M:%S +0000}",
    ]
    if message_id:
        headers.append(f"Message-ID: <m{seed}.{n}@old.example>")
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    body = f"Hello {n}.\r\n" + "".join(
        f"line {i} {rng.random():.12f}\r\n" for i in range(max(1, size // 24))
    )
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def fill(
    client: IMAPClient,
    folders: Mapping[str, int],
    *,
    seed: int = 0,
    big: Mapping[str, int] | None = None,
) -> int:
    """Append ``folders[name]`` messages to each folder (created if missing); return the total.

    Every 3rd message has flags, every 11th has no Message-ID, INTERNALDATEs spread over a
    year; ``big`` maps a folder to one extra message of that many bytes.
    """
    total = 0
    n = 0
    for folder, count in folders.items():
        if folder.upper() != "INBOX" and not client.folder_exists(folder):
            client.create_folder(folder)
        msgs = []
        for _ in range(count):
            n += 1
            flags = [_FLAGS[n % len(_FLAGS)]] if n % 3 == 0 else []
            date = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(hours=7 * n)
            msgs.append(
                (
                    make_message(n, message_id=n % 11 != 0, seed=seed, size=200 + (n % 9) * 300),
                    flags,
                    date,
                )
            )
        if big and folder in big:
            n += 1
            msgs.append((make_message(n, size=big[folder], seed=seed), [b"\\Seen"], None))
        items: list[dict[str, Any]] = []
        for body, flags, date in msgs:
            item: dict[str, Any] = {"msg": body, "flags": flags}
            if date is not None:
                item["date"] = date
            items.append(item)
        for i in range(0, len(items), 100):  # MULTIAPPEND (RFC 3502): one round trip per 100
            client.multiappend(folder, items[i : i + 100])
        total += len(msgs)
    return total


def snapshot(client: IMAPClient) -> dict[str, list[Message]]:
    """Every folder's messages (read-only, BODY.PEEK), by folder name, in UID order."""
    out: dict[str, list[Message]] = {}
    for flags, _delim, name in client.list_folders():
        if b"\\Noselect" in flags or b"\\NonExistent" in flags:
            continue
        client.select_folder(name, readonly=True)
        rows = []
        uids = client.search("ALL")
        for i in range(0, len(uids), 500):
            fetched = client.fetch(uids[i : i + 500], ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"])
            for uid, data in fetched.items():
                body = data[b"BODY[]"]
                rows.append(
                    Message(
                        uid=uid,
                        flags=frozenset(f for f in data[b"FLAGS"] if f != b"\\Recent"),
                        internaldate=data[b"INTERNALDATE"],
                        sha256=hashlib.sha256(body).hexdigest(),
                        size=len(body),
                    )
                )
        out[name] = sorted(rows, key=lambda m: m.uid)
    return out


def contents(snap: Mapping[str, list[Message]]) -> Counter[tuple[str, frozenset[bytes]]]:
    """The mailbox as a multiset of (body digest, flags): folder names and dates aside."""
    return Counter((m.sha256, m.flags) for msgs in snap.values() for m in msgs)


def digests(snap: Mapping[str, list[Message]]) -> Counter[tuple[str, frozenset[bytes], str]]:
    """The mailbox as a multiset of (body digest, flags, INTERNALDATE): folder names aside."""
    return Counter(
        (m.sha256, m.flags, m.internaldate.isoformat()) for msgs in snap.values() for m in msgs
    )
