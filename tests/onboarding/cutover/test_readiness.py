"""The cutover readiness rule on literal propagation reports (no DNS needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboarding.cutover import Ledger, Readiness, assess_readiness
from onboarding.dnscheck import PropagationSummary
from onboarding.dnscheck.propagation import Observation, PropagationReport, RecordState

T0 = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def _report(
    domain: str, *, published: bool, stale_ttl: int | None = None, mx_ttl: int = 300
) -> PropagationReport:
    auth = RecordState.CURRENT if published else RecordState.MISSING
    obs = [Observation("ns1", "authoritative", domain, "MX", auth, ("10 mail.mr.test",), mx_ttl)]
    if published:
        state = RecordState.STALE if stale_ttl is not None else RecordState.CURRENT
        obs.append(Observation("res", "resolver", domain, "MX", state, ttl=stale_ttl))
    else:
        obs.append(Observation("res", "resolver", domain, "MX", RecordState.NOT_PROBED))
    return PropagationReport(domain, (("ns1", 7),), tuple(obs))


def _assess(
    *reports: PropagationReport,
    ledger: Ledger | None = None,
    now: datetime = T0,
    noted: dict[str, int] | None = None,
) -> tuple[Readiness, Ledger]:
    return assess_readiness(
        PropagationSummary(reports),
        ledger or Ledger(),
        noted_mx_ttls=noted or {},
        ttl_multiple=2,
        now=now,
    )


def test_unpublished_domain_is_not_ready_with_unknown_eta() -> None:
    """Nobody can tell when the customer will publish: ETA None, no change time recorded."""
    readiness, ledger = _assess(_report("a.test", published=False))
    assert not readiness.ready and readiness.eta_seconds is None
    assert "ETA unknown" in readiness.message
    assert ledger.dns_published_at == {}


def test_first_sight_starts_the_two_ttl_clock_and_it_ends_ready() -> None:
    """Propagated but just seen: wait 2×TTL from now; after that it is ready."""
    readiness, ledger = _assess(_report("a.test", published=True))
    assert readiness.eta_seconds == 600 and not readiness.ready
    assert ledger.dns_published_at == {"a.test": T0}
    later, same = _assess(
        _report("a.test", published=True), ledger=ledger, now=T0 + timedelta(seconds=599)
    )
    assert later.eta_seconds == 1
    done, _ = _assess(
        _report("a.test", published=True), ledger=ledger, now=T0 + timedelta(seconds=600)
    )
    assert done.ready and done.eta_seconds == 0
    assert same.dns_published_at == {"a.test": T0}  # the clock is not restarted


def test_the_old_ttl_noted_by_the_plan_wins_over_a_shorter_new_one() -> None:
    """Caches may hold the old MX for its (longer) TTL, so the wait uses the larger TTL."""
    readiness, _ = _assess(_report("a.test", published=True, mx_ttl=60), noted={"a.test": 1800})
    (dom,) = readiness.domains
    assert dom.mx_ttl == 1800 and readiness.eta_seconds == 3600


def test_stale_resolver_and_the_wait_combine_to_the_larger_eta() -> None:
    """The ETA is the larger of a stale resolver's TTL and what is left of the 2×TTL wait."""
    ledger = Ledger(dns_published_at={"a.test": T0 - timedelta(seconds=500)})
    readiness, _ = _assess(_report("a.test", published=True, stale_ttl=250), ledger=ledger)
    assert readiness.eta_seconds == 250
    readiness, _ = _assess(_report("a.test", published=True, stale_ttl=50), ledger=ledger)
    assert readiness.eta_seconds == 100


def test_an_unpublished_record_resets_the_clock_and_every_domain_must_be_ready() -> None:
    """A domain whose record is gone again loses its change time (ETA unknown, not ready); the
    cutover is ready only when every domain has waited out its 2×TTL."""
    ledger = Ledger(dns_published_at={"a.test": T0 - timedelta(hours=1)})
    readiness, after = _assess(
        _report("a.test", published=False), _report("b.test", published=True), ledger=ledger
    )
    assert after.dns_published_at == {"b.test": T0}
    assert not readiness.ready and readiness.eta_seconds is None
    ready_a = Ledger(dns_published_at={"a.test": T0 - timedelta(hours=1), "b.test": T0})
    readiness, _ = _assess(
        _report("a.test", published=True), _report("b.test", published=True), ledger=ready_a
    )
    assert readiness.eta_seconds == 600 and not readiness.ready
