"""The lab corpus plan and messages (pure): deterministic and full of migration edge cases."""

from __future__ import annotations

import csv
import email
import email.policy
from pathlib import Path

import pytest

from lab.corpus import BIG_MESSAGE_BYTES, DEFAULT_USERS, CorpusMessage, messages, plan

EXAMPLE_USERS = Path(__file__).resolve().parents[2] / "examples" / "acme" / "users.csv"


def _all(profile: str, users: list[str] | None = None) -> list[CorpusMessage]:
    corpus = plan(profile, users)
    return [m for mb in corpus.mailboxes for f in mb.folders for m in messages(corpus, mb, f)]


def test_default_users_are_the_example_customers_users() -> None:
    """`lab seed` fills the mailboxes the demo migrates (examples/acme/users.csv)."""
    with EXAMPLE_USERS.open(encoding="utf-8") as f:
        assert tuple(row["email"] for row in csv.DictReader(f)) == DEFAULT_USERS


def test_same_inputs_give_the_same_bytes() -> None:
    """Determinism: a fixed seed reproduces every message byte for byte."""
    first, second = plan("small"), plan("small")
    assert first == second
    mailbox = first.mailboxes[1]
    for folder in mailbox.folders:
        assert list(messages(first, mailbox, folder)) == list(messages(second, mailbox, folder))


def test_plan_counts_match_generated_messages() -> None:
    """counts() is exactly what messages() yields, folder by folder (migration baseline)."""
    corpus = plan("small", ["a@x.test", "b@x.test"])
    for mailbox in corpus.mailboxes:
        for folder in mailbox.folders:
            produced = sum(1 for _ in messages(corpus, mailbox, folder))
            assert produced == corpus.counts()[mailbox.email][folder.name]


def test_bench_profile_is_big_enough() -> None:
    """bench: >= 20 mailboxes, >= 40,000 messages, one folder with >= 10,000."""
    corpus = plan("bench")
    assert len(corpus.mailboxes) >= 20
    assert corpus.total >= 40_000
    assert max(f.count for m in corpus.mailboxes for f in m.folders) >= 10_000
    with pytest.raises(ValueError, match="at least 20"):
        plan("bench", ["a@x.test"])


def test_small_profile_has_every_folder_edge_case() -> None:
    """Provider/localized special-use names, nesting, non-ASCII and empty folders exist."""
    corpus = plan("small", [f"u{i}@x.test" for i in range(4)])
    names = {f.name: f for m in corpus.mailboxes for f in m.folders}
    for name in ("Sent Items", "Gesendet", "[Gmail]/Sent Mail", "Sent", "Entwürfe"):
        assert names[name].special_use in (r"\Sent", r"\Drafts")
    assert "Projects/Alpha/Specs" in names
    assert {"Projekte/Überblick", "Отчёты", "日本語"} <= set(names)
    assert names["Empty"].count == 0 and names["Archive/Empty 2019"].count == 0


def test_small_profile_has_every_message_edge_case() -> None:
    """Missing and duplicate Message-IDs, 8-bit and malformed headers, flags, keywords,
    spread INTERNALDATEs and a message of more than 20 MB."""
    found = _all("small")
    ids = [m.message_id for m in found]
    assert None in ids
    assert any(ids.count(i) > 1 for i in ids if i)
    assert any(not m.raw.split(b"\n\n", 1)[0].isascii() for m in found)  # raw 8-bit header
    assert any(b"\nX-Broken-Header-Without-Colon\n" in m.raw for m in found)
    assert any(b"Date: yesterday at noon" in m.raw for m in found)
    assert max(len(m.raw) for m in found) >= BIG_MESSAGE_BYTES
    assert {r"\Seen", r"\Answered", r"\Flagged", r"\Draft"} <= {f for m in found for f in m.flags}
    assert {k for m in found for k in m.keywords}
    assert len({m.internaldate.year for m in found}) >= 10
    parsed = email.message_from_bytes(found[1].raw, policy=email.policy.default)
    assert parsed["From"] and parsed["To"]
