"""Content identity of a message, used when UIDs cannot be trusted (I8, I9).

The key is Message-ID + INTERNALDATE (as a UTC instant) + RFC822.SIZE, the default of the
reference §6.5. A message without a Message-ID gets a key from a SHA-256 of its bytes, never a
random one, so the same message always yields the same key on both servers::

    <a@b>|1719835200|5120
    sha256:9f86d0...|1719835200|5120
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

__all__ = [
    "body_key",
    "identity_key",
    "internaldate_epoch",
    "message_id_from_header",
    "message_id_from_message",
]

_MSGID_RE = re.compile(rb"^message-id[ \t]*:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.M)
_ANGLE_RE = re.compile(rb"<[^<>\s]+>")
_INTERNALDATE_FORMAT = "%d-%b-%Y %H:%M:%S %z"
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


def body_key(message: bytes) -> str:
    """Return the body-hash identity used when a message has no Message-ID."""
    return "sha256:" + hashlib.sha256(message).hexdigest()


def identity_key(message_id: str | None, internaldate: int, size: int, body_hash: str) -> str:
    """Return the identity key; ``body_hash`` is used only when ``message_id`` is missing."""
    return f"{message_id or body_hash}|{internaldate}|{size}"
