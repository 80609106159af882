"""Rate limits on what a pass reads from the source: messages and bytes per second (issue 10).

imapsync's ``--maxmessagespersecond`` / ``--maxbytespersecond``, per mailbox and per source
host. A :class:`Rate` is a token bucket kept as a theoretical arrival time (GCRA, as in
ATM traffic shaping): each reservation of ``n`` units moves that time ``n / per_second``
seconds on and waits until it is at most ``burst_seconds`` ahead of now, so after an idle
spell a burst of that much passes at once and over any long window the rate holds within one
burst. One :class:`Rate` object is shared by every thread that reads from a host
(:class:`HostRates` hands out one per host); each mailbox pass has its own as well, and a
:class:`Pacer` waits for all of them before each FETCH of message bodies::

    pacer = Pacer(mailbox=(Rate(5.0), None), host=host_rates.get("imap.gmail.com:993"))
    pacer.take(messages=4, size=120_000)  # sleeps until 4 messages fit every limit

A pass also makes its FETCH commands small (:meth:`Pacer.batch_limit`: about a quarter of a
second's worth), so the source sees the pace, not bursts of one big batch.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["HostRates", "Pacer", "Rate", "RateLimits"]

_BATCH_SECONDS = 0.25  # one FETCH of bodies carries about this much of the allowed rate


class Rate:
    """A thread-safe token bucket of ``per_second`` units (messages or bytes)."""

    def __init__(
        self,
        per_second: float,
        *,
        burst_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"a rate must be more than 0 per second, not {per_second!r}")
        self.per_second = per_second
        self.burst_seconds = burst_seconds
        self.clock = clock
        self.lock = threading.Lock()
        self.arrival = -math.inf  # the theoretical arrival time of the next unit

    def reserve(self, units: float) -> float:
        """Reserve ``units`` and return how many seconds the caller must wait first."""
        with self.lock:
            now = self.clock()
            self.arrival = max(self.arrival, now) + units / self.per_second
            return max(0.0, self.arrival - now - self.burst_seconds)


@dataclass(frozen=True)
class RateLimits:
    """Messages and bytes per second (None: no limit), as the spec gives them."""

    messages_per_second: float | None = None
    bytes_per_second: float | None = None

    def __post_init__(self) -> None:
        for name in ("messages_per_second", "bytes_per_second"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be more than 0 or None, not {value!r}")

    @property
    def limited(self) -> bool:
        return self.messages_per_second is not None or self.bytes_per_second is not None

    def rates(self) -> tuple[Rate | None, Rate | None]:
        """Fresh buckets (messages, bytes) for these limits."""
        m, b = self.messages_per_second, self.bytes_per_second
        return (Rate(m) if m else None, Rate(b) if b else None)


class HostRates:
    """One pair of buckets per source host, shared by every mailbox reading from it."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.lock = threading.Lock()
        self.by_host: dict[str, tuple[Rate | None, Rate | None]] = {}

    def get(self, host: str) -> tuple[Rate | None, Rate | None]:
        """The buckets of ``host`` (``name:port``), made at its first use."""
        with self.lock:
            if host not in self.by_host:
                self.by_host[host] = self.limits.rates()
            return self.by_host[host]


@dataclass(frozen=True)
class Pacer:
    """Waits until a batch fits the mailbox's and the host's limits (either may be absent)."""

    mailbox: tuple[Rate | None, Rate | None] = (None, None)
    host: tuple[Rate | None, Rate | None] = (None, None)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    @property
    def _rates(self) -> tuple[tuple[Rate, float], ...]:
        (mm, mb), (hm, hb) = self.mailbox, self.host
        pairs = ((mm, 1.0), (hm, 1.0), (mb, 0.0), (hb, 0.0))
        return tuple((r, kind) for r, kind in pairs if r is not None)

    def take(self, *, messages: int, size: int) -> float:
        """Wait until ``messages`` of ``size`` bytes in all may be read; return the wait."""
        wait = 0.0
        for rate, per_message in self._rates:
            wait = max(wait, rate.reserve(messages if per_message else size))
        if wait > 0:
            self.sleep(wait)
        return wait

    def batch_limit(self) -> tuple[int | None, int | None]:
        """(messages, bytes) one FETCH may carry so the source sees an even pace."""
        msgs = [r.per_second for r, m in self._rates if m]
        size = [r.per_second for r, m in self._rates if not m]
        return (
            max(1, int(min(msgs) * _BATCH_SECONDS)) if msgs else None,
            max(1, int(min(size) * _BATCH_SECONDS)) if size else None,
        )
