"""Rate limits (issue 10): the token bucket's arithmetic, and a lab sync held to R msg/s."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.faultproxy import FaultProxy
from support.imap_filters import LiteralRewriter, record_bodies
from support.mail import connect, fill

from lab import Lab, LabUser
from onboarding.mailsync import MailboxPair, StateStore, SyncOptions, sync_mailbox
from onboarding.mailsync.ratelimit import HostRates, Pacer, Rate, RateLimits


class _Clock:
    """A clock the sleeps move on, so the bucket's schedule is seen without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_rate_holds_over_a_long_window_after_one_burst() -> None:
    """Taking 1 unit at a time from a 10/s bucket for 100 units takes 10 s less the burst."""
    clock = _Clock()
    pacer = Pacer(mailbox=(Rate(10.0, clock=clock), None), sleep=clock.sleep)
    for _ in range(100):
        pacer.take(messages=1, size=0)
    assert clock.now - 1000.0 == pytest.approx(10.0 - 0.5, abs=0.11)


def test_the_tighter_of_mailbox_and_host_limits_wins() -> None:
    """A 1 MB/s host bucket holds a mailbox allowed 10 MB/s; both buckets are charged."""
    clock = _Clock()
    host = HostRates(RateLimits(bytes_per_second=1e6))
    shared = host.get("imap.example:993")
    shared[1].clock = clock  # type: ignore[union-attr]
    pacer = Pacer(mailbox=(None, Rate(1e7, clock=clock)), host=shared, sleep=clock.sleep)
    for _ in range(10):
        pacer.take(messages=1, size=500_000)
    assert clock.now - 1000.0 == pytest.approx(5.0 - 0.5, abs=0.01)
    assert host.get("imap.example:993") is shared  # one pair of buckets per host
    assert pacer.batch_limit() == (None, 250_000)


def test_limits_must_be_positive() -> None:
    """A rate of 0 is a caller mistake (ValueError naming the field)."""
    with pytest.raises(ValueError, match="messages_per_second"):
        RateLimits(messages_per_second=0)


def test_a_sync_limited_to_r_messages_per_second_holds_within_ten_percent(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """R = 8 msg/s over a 30 s sync: the bodies the source sends (counted at a proxy in front
    of it) come at 8/s within 10%, and every message arrives."""
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        total = fill(c, {"INBOX": 250})
    times: list[float] = []
    with FaultProxy((lab.source.host, lab.source.imap_port)) as proxy:
        proxy.filter("downstream", lambda: LiteralRewriter(record_bodies(times)))
        pacer = Pacer(mailbox=RateLimits(messages_per_second=8.0).rates())
        out = sync_mailbox(pair_for(lab_user, src_port=proxy.port), SyncOptions(pacer=pacer), store)
    assert out.copied == total == len(times)
    span = times[-1] - times[0]
    assert span > 28
    assert (len(times) - 1) / span == pytest.approx(8.0, rel=0.10)
