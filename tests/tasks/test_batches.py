"""How ``migrate`` splits a big customer into batches for the work pool (tasks.batches)."""

from __future__ import annotations

import pytest

from tasks.adapters import MailboxJob
from tasks.batches import split


def _jobs(n: int) -> list[MailboxJob]:
    return [MailboxJob(f"u{i}@x.test", "src", 993, f"u{i}@x.test", "dst", 993) for i in range(n)]


@pytest.mark.parametrize(
    ("count", "size", "sizes"),
    [(100, 25, [25, 25, 25, 25]), (101, 50, [34, 34, 33]), (7, 50, [7]), (0, 10, [])],
)
def test_batches_keep_every_mailbox_once_in_order_and_as_even_as_possible(
    count: int, size: int, sizes: list[int]
) -> None:
    """No batch exceeds the size, sizes differ by at most one, and every mailbox is in exactly
    one batch, in the user list's order (so a batch's re-run takes the same users)."""
    jobs = _jobs(count)
    batches = split(jobs, size)
    assert [len(b) for b in batches] == sizes
    assert [j for b in batches for j in b] == jobs
