"""Content identity of a message, used when UIDs cannot be trusted (I8, I9).

The identity is a *hint*: Message-ID + INTERNALDATE (as a UTC instant) + RFC822.SIZE, the
default of the reference §6.5. A message without a Message-ID gets one from a SHA-256 of its
bytes, never a random one, so the same message always yields the same identity::

    <a@b>|1719835200|5120                 (identity_text)
    sha256:9f86d0...|1719835200|5120
    h:3b1f...                             (identity_key: SHA-256 of the text, 66 characters)

The stored form is fixed-size (a Message-ID can be thousands of characters long), and a text
stored by an older version maps to the same key (:func:`stored_identity`).

Only the bytes settle whether two messages are the same (issue 14): :func:`body_digest` for
two source messages (duplicates are byte-identical), :func:`normalized_digest` for a source
message and its copy on a destination that may have changed its line endings.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import NamedTuple

__all__ = [
    "ContentKey",
    "body_digest",
    "body_key",
    "content_key",
    "identity_key",
    "identity_text",
    "internaldate_epoch",
    "message_id_from_header",
    "message_id_from_message",
    "normalized_digest",
    "stored_identity",
]

_MSGID_RE = re.compile(rb"^message-id[ \t]*:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.M)
_ANGLE_RE = re.compile(rb"<[^<>\s]+>")
_INTERNALDATE_FORMAT = "%d-%b-%Y %H:%M:%S %z"
_LINE_END = re.compile(rb"\r\n|\r|\n")
_STORED = re.compile(r"h:[0-9a-f]{64}")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def message_id_from_header(header: bytes) -> str | None:
    """Return the Message-ID (``<x@y>``) found in a header block, or None.

    Folded values are unfolded; if no angle-bracket form is present the trimmed value is used.
    """
    m = _MSGID_RE.search(header)
    if not m:
        return None
    value = re.sub(rb"\r?\n[ \t]+", b" ", m.group(1)).strip()
    angle = _ANGLE_RE.search(value)
    chosen = angle.group(0) if angle else value
    return chosen.decode("utf-8", "replace") if chosen else None


def message_id_from_message(message: bytes) -> str | None:
    """Return the Message-ID of a whole message (only its header part is searched)."""
    end = message.find(b"\r\n\r\n")
    if end < 0:
        end = message.find(b"\n\n")
    return message_id_from_header(message if end < 0 else message[: end + 2])


def internaldate_epoch(value: str) -> int:
    """Return the UTC instant of an IMAP date-time (``" 7-Jul-2024 10:00:00 +0200"``).

    A missing or unparsable date (some servers answer NIL) gives 0, so the message is still
    identified (by Message-ID and size) instead of stopping the mailbox.
    """
    text = value.strip()
    try:
        return int(datetime.strptime(text, _INTERNALDATE_FORMAT).timestamp())
    except ValueError:
        pass
    try:  # strptime's %b depends on the locale; parse the month by hand as a fallback.
        day, mon, rest = text.split("-", 2)
        normal = f"{int(day):02d}-{_MONTHS[mon.title()]:02d}-{rest}"
        return int(datetime.strptime(normal, "%d-%m-%Y %H:%M:%S %z").timestamp())
    except (ValueError, KeyError):
        return 0


def body_digest(message: bytes) -> str:
    """SHA-256 (hex) of the exact bytes: two source messages are duplicates only if equal."""
    return hashlib.sha256(message).hexdigest()


def normalized_digest(message: bytes) -> str:
    """SHA-256 (hex) of the bytes with line endings unified and trailing ones dropped.

    A destination may store a message with other line endings than it was given (bare CR or
    LF made CRLF, a final CRLF added), so its copy is compared by this digest, not by size.
    """
    return hashlib.sha256(_LINE_END.sub(b"\n", message).rstrip(b"\n")).hexdigest()


def body_key(message: bytes) -> str:
    """Return the body-hash identity used when a message has no Message-ID."""
    return "sha256:" + body_digest(message)


def identity_text(message_id: str | None, internaldate: int, size: int, body_hash: str) -> str:
    """The identity as text; ``body_hash`` is used only when ``message_id`` is missing."""
    return f"{message_id or body_hash}|{internaldate}|{size}"


def stored_identity(text: str) -> str:
    """The fixed-size form of an identity text (an already fixed-size key is returned as is).

    State stores written before identities were hashed hold the text; it maps to the key the
    engine computes now, so their rows keep matching.
    """
    if _STORED.fullmatch(text):
        return text
    return "h:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def identity_key(message_id: str | None, internaldate: int, size: int, body_hash: str) -> str:
    """The fixed-size identity (``h:`` + 64 hex) of :func:`identity_text`."""
    return stored_identity(identity_text(message_id, internaldate, size, body_hash))


class ContentKey(NamedTuple):
    """A message's identity and the digest of its bytes: equal keys are the same message."""

    identity: str
    digest: str


def content_key(message_id: str | None, internaldate: int, size: int, body: bytes) -> ContentKey:
    """The :class:`ContentKey` of a message read in full (one SHA-256 over its bytes)."""
    digest = body_digest(body)
    return ContentKey(
        identity_key(message_id, internaldate, size, "" if message_id else "sha256:" + digest),
        digest,
    )
