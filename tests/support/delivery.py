"""Mail delivery in lab tests: send through the gateway and read the subjects that arrived.

Delivery is asynchronous: wait for it with :func:`support.poll.until`, never a fixed sleep."""

from __future__ import annotations

import smtplib

from imapclient import IMAPClient


def send(smtp_port: int, to: str, subject: str, *, sender: str = "sender@example.test") -> None:
    """Hand one small message for ``to`` to the SMTP server on 127.0.0.1:``smtp_port``."""
    body = f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nhello\r\n"
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.sendmail(sender, [to], body.encode())


def inbox_subjects(imap_port: int, email: str, password: str) -> list[str]:
    """The sorted subjects in ``email``'s INBOX on 127.0.0.1:``imap_port`` (read-only)."""
    with IMAPClient("127.0.0.1", port=imap_port, ssl=False, timeout=10) as imap:
        imap.login(email, password)
        imap.select_folder("INBOX", readonly=True)
        found = imap.fetch(imap.search(), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        return sorted(
            data[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip()
            for data in found.values()
        )
