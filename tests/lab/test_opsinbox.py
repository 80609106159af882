"""The lab's ops inbox keeps every notice a webhook block posts to it."""

from __future__ import annotations

from pathlib import Path

import httpx

from lab.opsinbox import OpsInbox


def test_each_posted_notice_is_one_line_of_the_inbox(tmp_path: Path) -> None:
    """A JSON notice is kept as sent, anything else as its text; oldest first."""
    inbox = OpsInbox(tmp_path).start()
    try:
        httpx.post(inbox.url, json={"subject": "migrate failed", "body": "acme"}).raise_for_status()
        httpx.post(inbox.url, content=b"plain words").raise_for_status()
    finally:
        inbox.stop()
    assert inbox.messages() == [
        {"subject": "migrate failed", "body": "acme"},
        {"body": "plain words"},
    ]
