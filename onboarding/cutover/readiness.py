"""The cutover readiness rule (runbook phase 3), as a pure function.

A domain is ready when the DNS change has propagated (every authoritative server and every
configured resolver shows the new records) **and** ``ttl_multiple`` × its MX TTL has passed
since the change: resolvers we cannot ask may have cached the old MX just before it, and keep
it that long. The change time is when we first saw the new records on every authoritative
server (kept in the ledger); the MX TTL is the larger of what the DNS plan noted before the
change and what the servers publish now. The cutover is ready when every domain is.

ETA: per domain the larger of the propagation ETA and the time left on the TTL wait; None
while the customer has not published everything (nobody can tell when they will).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from onboarding.cutover.ledger import Ledger
from onboarding.dnscheck import PropagationReport, PropagationSummary

__all__ = ["DomainReadiness", "Readiness", "assess_readiness"]


@dataclass(frozen=True)
class DomainReadiness:
    """One domain against the rule; ``reason`` says what is still missing."""

    domain: str
    published: bool
    propagated: bool
    mx_ttl: int | None
    changed_at: datetime | None
    ready_at: datetime | None
    eta_seconds: int | None
    reason: str

    @property
    def ready(self) -> bool:
        return self.propagated and self.eta_seconds == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "ready": self.ready,
            "published": self.published,
            "propagated": self.propagated,
            "mx_ttl": self.mx_ttl,
            "dns_changed_at": self.changed_at.isoformat() if self.changed_at else None,
            "ready_at": self.ready_at.isoformat() if self.ready_at else None,
            "eta_seconds": self.eta_seconds,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Readiness:
    """Every domain; ready when each is, ETA the largest (None when unknown)."""

    domains: tuple[DomainReadiness, ...]
    checked_at: datetime
    ttl_multiple: float

    @property
    def ready(self) -> bool:
        return bool(self.domains) and all(d.ready for d in self.domains)

    @property
    def eta_seconds(self) -> int | None:
        etas = [d.eta_seconds for d in self.domains]
        if any(e is None for e in etas):
            return None
        return max((e for e in etas if e is not None), default=0)

    @property
    def message(self) -> str:
        if self.ready:
            return "ready: DNS propagated and the TTL wait has passed for every domain"
        waiting = "; ".join(f"{d.domain}: {d.reason}" for d in self.domains if not d.ready)
        eta = self.eta_seconds
        when = (
            f"ETA {eta} s (at {self.checked_at + timedelta(seconds=eta):%Y-%m-%d %H:%M:%S} UTC)"
            if eta is not None
            else "ETA unknown until the customer publishes every record"
        )
        return f"not ready, {when}: {waiting}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "eta_seconds": self.eta_seconds,
            "checked_at": self.checked_at.isoformat(),
            "ttl_multiple": self.ttl_multiple,
            "message": self.message,
            "domains": [d.to_dict() for d in self.domains],
        }


def _published_mx_ttl(report: PropagationReport) -> int | None:
    ttls = [
        o.ttl
        for o in report.observations
        if o.role == "authoritative" and o.rdtype == "MX" and o.name == report.domain
    ]
    return max((t for t in ttls if t is not None), default=None)


def _domain(
    report: PropagationReport,
    changed_at: datetime | None,
    noted_ttl: int | None,
    *,
    ttl_multiple: float,
    now: datetime,
) -> DomainReadiness:
    name = report.domain
    if not report.published or changed_at is None:
        return DomainReadiness(
            name,
            False,
            False,
            noted_ttl,
            None,
            None,
            None,
            "the new records are not on every authoritative server yet",
        )
    ttls = [t for t in (noted_ttl, _published_mx_ttl(report)) if t is not None]
    ttl = max(ttls, default=0)
    ready_at = changed_at + timedelta(seconds=ttl * ttl_multiple)
    left = max(0, int(-(-(ready_at - now).total_seconds() // 1)))  # round up
    if not report.propagated:
        prop_eta = report.eta_seconds
        eta = None if prop_eta is None else max(prop_eta, left, 1)  # not yet, however close
        reason = (
            "resolvers still answer with old data"
            + (f" for up to {prop_eta} s" if prop_eta is not None else "")
            + (f"; {left} s left of the {ttl_multiple:g}×TTL wait" if left else "")
        )
        return DomainReadiness(name, True, False, ttl, changed_at, ready_at, eta, reason)
    reason = (
        f"{left} s left of the {ttl_multiple:g}×MX TTL wait ({ttl} s TTL, change seen at "
        f"{changed_at:%Y-%m-%d %H:%M:%S} UTC)"
        if left
        else "ready"
    )
    return DomainReadiness(name, True, True, ttl, changed_at, ready_at, left, reason)


def assess_readiness(
    propagation: PropagationSummary,
    ledger: Ledger,
    *,
    noted_mx_ttls: Mapping[str, int],
    ttl_multiple: float,
    now: datetime,
) -> tuple[Readiness, Ledger]:
    """Apply the rule to a propagation check; return it and the ledger with change times.

    A domain seen published for the first time gets ``now`` as its change time; one that is
    no longer published loses its time (a re-publish restarts the wait).
    """
    published = dict(ledger.dns_published_at)
    results = []
    for report in propagation.reports:
        if report.published:
            published.setdefault(report.domain, now)
        else:
            published.pop(report.domain, None)
        results.append(
            _domain(
                report,
                published.get(report.domain),
                noted_mx_ttls.get(report.domain),
                ttl_multiple=ttl_multiple,
                now=now,
            )
        )
    readiness = Readiness(tuple(results), now, ttl_multiple)
    return readiness, replace(ledger, dns_published_at=published)
