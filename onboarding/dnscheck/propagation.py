"""Propagation: do all authoritative servers and the configured resolvers show the new records?

Order matters (reference dns.md §4): every authoritative server first (AA answers, SOA serials
compared), then the resolvers, and a record is asked of the resolvers only once every
authoritative server publishes it. Asking a resolver earlier would plant a negative answer in
its cache for the zone's negative TTL (RFC 2308), delaying the cutover it is meant to time.

ETA = the largest remaining TTL among stale resolver answers (positive TTL for an old RRset,
negative TTL for a cached NXDOMAIN/NODATA).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from onboarding.dnscheck._exceptions import DNSCheckError
from onboarding.dnscheck.query import (
    Answer,
    AnswerStatus,
    Server,
    query_authoritative,
    query_resolver,
)
from onboarding.dnscheck.zonefile import Record

__all__ = [
    "ExpectedRecord",
    "Match",
    "Observation",
    "PropagationReport",
    "RecordState",
    "check_propagation",
    "expected_records",
]

log = logging.getLogger(__name__)


def _norm(rdtype: str, value: str) -> str:
    if rdtype == "TXT":
        return value
    return " ".join(tok.rstrip(".").lower() for tok in value.split())


class Match(StrEnum):
    """How an answer is compared with the expected values."""

    EXACT = "exact"  # the RRset equals the values (MX, SRV, CNAME)
    CONTAINS = "contains"  # the values are among the TXT strings
    SPF = "spf"  # exactly one SPF record, and it has include:<value>
    DMARC = "dmarc"  # exactly one v=DMARC1 record


@dataclass(frozen=True)
class ExpectedRecord:
    """The data we expect at ``name``/``rdtype``; ``match`` says how strictly."""

    name: str
    rdtype: str
    values: tuple[str, ...]
    match: Match = Match.EXACT

    def matches(self, answer: Answer) -> bool:
        """Return True when ``answer`` shows the expected data."""
        if answer.status is not AnswerStatus.OK:
            return False
        if self.match is Match.SPF:
            spf = [r for r in answer.records if r.lower().startswith("v=spf1")]
            wanted = {f"include:{v.lower().rstrip('.')}" for v in self.values}
            return len(spf) == 1 and wanted <= {t.lower().lstrip("+") for t in spf[0].split()}
        if self.match is Match.DMARC:
            return sum(1 for r in answer.records if r.startswith("v=DMARC1")) == 1
        have = {_norm(self.rdtype, r) for r in answer.records}
        want = {_norm(self.rdtype, v) for v in self.values}
        if self.match is Match.CONTAINS:
            return want <= have
        return have == want


def expected_records(records: Sequence[Record]) -> tuple[ExpectedRecord, ...]:
    """Group records to publish into one :class:`ExpectedRecord` per name and type."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for r in records:
        grouped.setdefault((r.name.lower(), r.rdtype), []).append(r.value)
    return tuple(
        ExpectedRecord(n, t, tuple(v), Match.CONTAINS if t == "TXT" else Match.EXACT)
        for (n, t), v in grouped.items()
    )


class RecordState(StrEnum):
    """What one server shows for one expected record."""

    CURRENT = "current"  # shows the expected data
    STALE = "stale"  # a resolver still shows old or negative data
    MISSING = "missing"  # an authoritative server does not publish it yet
    NOT_PROBED = "not-probed"  # not asked: not yet published everywhere (negative caching)
    ERROR = "error"  # the server did not answer usefully


@dataclass(frozen=True)
class Observation:
    """One server's view of one expected record."""

    server: str
    role: str  # "authoritative" or "resolver"
    name: str
    rdtype: str
    state: RecordState
    records: tuple[str, ...] = ()
    ttl: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class PropagationReport:
    """Per server and record; ``propagated`` when every server shows every record."""

    domain: str
    serials: tuple[tuple[str, int | None], ...]
    observations: tuple[Observation, ...]

    @property
    def serials_equal(self) -> bool:
        values = {s for _, s in self.serials}
        return len(values) == 1 and None not in values

    @property
    def published(self) -> bool:
        """True when every authoritative server shows every expected record."""
        auth = [o for o in self.observations if o.role == "authoritative"]
        return bool(auth) and all(o.state is RecordState.CURRENT for o in auth)

    @property
    def propagated(self) -> bool:
        return (
            self.serials_equal
            and bool(self.observations)
            and all(o.state is RecordState.CURRENT for o in self.observations)
        )

    @property
    def eta_seconds(self) -> int | None:
        """Largest remaining TTL among stale resolver answers; None when unknown or not due."""
        stale = [o.ttl for o in self.observations if o.state is RecordState.STALE]
        if not stale:
            return 0 if self.propagated else None
        return max((t for t in stale if t is not None), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "serials": dict(self.serials),
            "serials_equal": self.serials_equal,
            "published": self.published,
            "propagated": self.propagated,
            "eta_seconds": self.eta_seconds,
            "observations": [
                {
                    "server": o.server,
                    "role": o.role,
                    "name": o.name,
                    "type": o.rdtype,
                    "state": str(o.state),
                    "records": list(o.records),
                    "ttl": o.ttl,
                    "error": o.error,
                }
                for o in self.observations
            ],
        }


def _remaining(answer: Answer) -> int | None:
    return answer.ttl if answer.status is AnswerStatus.OK else answer.negative_ttl


def _observe(
    server: Server, role: str, exp: ExpectedRecord, *, timeout: float
) -> tuple[Observation, bool]:
    """Ask ``server`` (``role`` "authoritative" or "resolver") for ``exp``; return what it
    shows and whether that is what we expect.

    A server in trouble is an ``error`` observation, never an exception. A wrong answer is
    ``missing`` at an authoritative server and ``stale`` (with the TTL left) at a resolver.
    """
    authoritative = role == "authoritative"
    query = query_authoritative if authoritative else query_resolver
    try:
        answer = query(exp.name, exp.rdtype, server, timeout=timeout)
    except DNSCheckError as exc:
        error = Observation(
            str(server), role, exp.name, exp.rdtype, RecordState.ERROR, error=str(exc)
        )
        return error, False
    ok = exp.matches(answer)
    if ok:
        state = RecordState.CURRENT
    else:
        state = RecordState.MISSING if authoritative else RecordState.STALE
    ttl = answer.ttl if authoritative else _remaining(answer)
    return Observation(str(server), role, exp.name, exp.rdtype, state, answer.records, ttl), ok


def check_propagation(
    domain: str,
    expected: Sequence[ExpectedRecord],
    *,
    nameservers: Sequence[Server],
    resolvers: Sequence[Server],
    timeout: float,
) -> PropagationReport:
    """Ask every authoritative server, then (for published records only) every resolver.

    Never raises for server trouble: an unreachable server is an ``error`` observation.
    """
    observations: list[Observation] = []
    serials: list[tuple[str, int | None]] = []
    published: dict[tuple[str, str], bool] = {}
    for ns in nameservers:
        try:
            soa = query_authoritative(domain, "SOA", ns, timeout=timeout)
            serials.append((str(ns), soa.serial))
        except DNSCheckError as exc:
            log.info("SOA of %s at %s failed: %s", domain, ns, exc)
            serials.append((str(ns), None))
        for exp in expected:
            key = (exp.name, exp.rdtype)
            seen, ok = _observe(ns, "authoritative", exp, timeout=timeout)
            observations.append(seen)
            published[key] = published.get(key, True) and ok
    for resolver in resolvers:
        for exp in expected:
            if not published.get((exp.name, exp.rdtype), False):
                observations.append(
                    Observation(
                        str(resolver), "resolver", exp.name, exp.rdtype, RecordState.NOT_PROBED
                    )
                )
                continue
            seen, _ = _observe(resolver, "resolver", exp, timeout=timeout)
            observations.append(seen)
    return PropagationReport(domain, tuple(serials), tuple(observations))
