"""Queries against the lab's NSD and Unbound: TTLs, change order, negative caching, failures."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from onboarding.dnscheck._exceptions import (
    DNSTimeoutError,
    NoNameserversError,
    NotAuthoritativeError,
    ServerFailureError,
)
from onboarding.dnscheck.propagation import ExpectedRecord, Match, RecordState, check_propagation
from onboarding.dnscheck.query import (
    AnswerStatus,
    Server,
    discover_nameservers,
    query_authoritative,
    query_resolver,
)

from .conftest import DNSLab


def _poll(check, seconds: float):  # type: ignore[no-untyped-def]
    """Call ``check()`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_authoritative_ttl_is_configured_while_cache_ttl_counts_down(
    dns_lab: DNSLab, zone: str
) -> None:
    """The AA answer always carries the zone's TTL; Unbound's answer carries what remains."""
    dns_lab.publish(zone, "@ 30 IN MX 10 mx1.old.test.")
    first = query_resolver(zone, "MX", dns_lab.resolver, timeout=3)
    assert first.ttl is not None and first.ttl <= 30 and not first.authoritative
    later = _poll(
        lambda: (a := query_resolver(zone, "MX", dns_lab.resolver, timeout=3)).ttl < 30 and a, 5
    )
    assert later and later.ttl < 30 and later.records == ("10 mx1.old.test.",)
    auth = query_authoritative(zone, "MX", dns_lab.auth, timeout=3)
    assert (auth.ttl, auth.authoritative) == (30, True)


def test_change_is_seen_at_the_authoritative_server_first_then_at_the_resolver(
    dns_lab: DNSLab, zone: str
) -> None:
    """After the MX change NSD answers new data at once; Unbound keeps the old RRset until
    its TTL ends, then answers the new one."""
    # Unbound counts whole seconds: 6 s leaves room to see the old answer still cached.
    dns_lab.publish(zone, "@ IN MX 10 mx1.old.test.", ttl=6)
    assert query_resolver(zone, "MX", dns_lab.resolver, timeout=3).records == ("10 mx1.old.test.",)
    dns_lab.publish(zone, "@ IN MX 10 mail.mailroute.test.", ttl=6)
    changed_at = time.monotonic()
    auth = query_authoritative(zone, "MX", dns_lab.auth, timeout=3)
    cached = query_resolver(zone, "MX", dns_lab.resolver, timeout=3)
    assert auth.records == ("10 mail.mailroute.test.",)
    assert cached.records == ("10 mx1.old.test.",) and cached.ttl is not None
    new = _poll(
        lambda: (
            query_resolver(zone, "MX", dns_lab.resolver, timeout=3).records
            == ("10 mail.mailroute.test.",)
        ),
        cached.ttl + 3,
    )
    assert new, "the resolver never picked up the change"
    assert time.monotonic() - changed_at >= cached.ttl - 1


def test_negative_answer_is_cached_for_the_soa_minimum(dns_lab: DNSLab, zone: str) -> None:
    """RFC 2308: NXDOMAIN for _dmarc stays in the cache for min(SOA TTL, MINIMUM) seconds, even
    after the record is published."""
    dns_lab.publish(zone, "@ IN MX 10 mx1.old.test.", ttl=30, minimum=5)
    name = f"_dmarc.{zone}"
    neg = query_resolver(name, "TXT", dns_lab.resolver, timeout=3)
    assert neg.status is AnswerStatus.NXDOMAIN and neg.negative_ttl == 5
    dns_lab.publish(
        zone, '@ IN MX 10 mx1.old.test.\n_dmarc IN TXT "v=DMARC1; p=none"', ttl=30, minimum=5
    )
    assert query_authoritative(name, "TXT", dns_lab.auth, timeout=3).exists
    assert query_resolver(name, "TXT", dns_lab.resolver, timeout=3).status is AnswerStatus.NXDOMAIN
    seen = _poll(lambda: query_resolver(name, "TXT", dns_lab.resolver, timeout=3).exists, 8)
    assert seen


def test_propagation_never_probes_a_resolver_before_the_name_is_published(
    dns_lab: DNSLab, zone: str
) -> None:
    """With a 300 s negative TTL, one early probe would block the new name for 5 minutes.
    check_propagation asks the resolver only after every authoritative server publishes it,
    so the resolver has the record the moment it is published."""
    dns_lab.publish(zone, "@ IN MX 10 mx1.old.test.", ttl=300, minimum=300)
    expected = [ExpectedRecord(f"_dmarc.{zone}", "TXT", (), Match.DMARC)]
    before = check_propagation(
        zone, expected, nameservers=[dns_lab.auth], resolvers=[dns_lab.resolver], timeout=3
    )
    states = {(o.role, o.state) for o in before.observations}
    assert states == {("authoritative", RecordState.MISSING), ("resolver", RecordState.NOT_PROBED)}
    assert not before.propagated and before.eta_seconds is None
    dns_lab.publish(
        zone, '@ IN MX 10 mx1.old.test.\n_dmarc IN TXT "v=DMARC1; p=none"', ttl=300, minimum=300
    )
    after = check_propagation(
        zone, expected, nameservers=[dns_lab.auth], resolvers=[dns_lab.resolver], timeout=3
    )
    assert after.propagated and after.serials_equal and after.eta_seconds == 0


def test_stale_resolver_gives_an_eta_of_its_remaining_ttl(dns_lab: DNSLab, zone: str) -> None:
    """A resolver that cached the old MX is stale after the change, showing the old record, and the
    ETA is its remaining TTL."""
    dns_lab.publish(zone, "@ IN MX 10 mx1.old.test.", ttl=120)
    query_resolver(zone, "MX", dns_lab.resolver, timeout=3)  # the world has cached the old MX
    dns_lab.publish(zone, "@ IN MX 10 mail.mailroute.test.", ttl=120)
    expected = [ExpectedRecord(zone, "MX", ("10 mail.mailroute.test",), Match.EXACT)]
    report = check_propagation(
        zone, expected, nameservers=[dns_lab.auth], resolvers=[dns_lab.resolver], timeout=3
    )
    assert report.published and not report.propagated
    (stale,) = [o for o in report.observations if o.state is RecordState.STALE]
    assert stale.records == ("10 mx1.old.test.",)
    assert report.eta_seconds == stale.ttl and 100 < stale.ttl <= 120


# --- failures: each a clear error within a bounded time -------------------------------------


@pytest.fixture
def silent_server() -> Iterator[Server]:
    """A UDP socket that never answers: a dead resolver (public resolvers may be faked)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield Server("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


def test_timeout_is_a_clear_error_within_the_budget(silent_server: Server) -> None:
    """A server that never answers raises DNSTimeoutError naming the query, server and timeout,
    within the configured timeout (plus slack), for queries and for NS discovery."""
    started = time.monotonic()
    with pytest.raises(DNSTimeoutError) as info:
        query_resolver("acme.test", "MX", silent_server, timeout=1.0)
    assert time.monotonic() - started < 1.0 + 2.0  # the budget, not the OS default
    assert str(info.value).startswith(f"MX of acme.test at {silent_server}: no answer within 1 s")
    with pytest.raises(DNSTimeoutError):
        discover_nameservers("acme.test", (silent_server,), timeout=1.0)
    assert time.monotonic() - started < 2 * 1.0 + 2.0


def test_servfail_from_the_resolver_is_a_clear_error(dns_lab: DNSLab, zone: str) -> None:
    """Unbound answers SERVFAIL for a zone its authoritative server refuses."""
    started = time.monotonic()
    with pytest.raises(ServerFailureError) as info:
        query_resolver(f"not-served-{zone}", "MX", dns_lab.resolver, timeout=3)
    assert info.value.rcode == "SERVFAIL" and time.monotonic() - started < 3.0 + 2.0
    assert "answered SERVFAIL" in str(info.value)


def test_refused_and_lame_authoritative_answers_are_errors(dns_lab: DNSLab, zone: str) -> None:
    """A server that does not serve the zone refuses; one that only delegates it (a referral,
    no AA bit) is lame for that name."""
    with pytest.raises(ServerFailureError) as info:
        query_authoritative(f"not-served-{zone}", "MX", dns_lab.auth, timeout=3)
    assert info.value.rcode == "REFUSED"
    dns_lab.publish(zone, "@ IN MX 10 mx1.old.test.\nsub IN NS ns.elsewhere.invalid.")
    with pytest.raises(NotAuthoritativeError, match="not authoritative"):
        query_authoritative(f"sub.{zone}", "MX", dns_lab.auth, timeout=3)


def test_domain_without_nameservers_is_a_clear_error(dns_lab: DNSLab, zone: str) -> None:
    """NXDOMAIN for the domain, or NS hosts without an address: NoNameserversError, quickly."""
    dns_lab.publish(zone, "@ IN MX 10 mx1.old.test.", ns="ns1.gone.invalid.")
    started = time.monotonic()
    with pytest.raises(NoNameserversError, match=r"nosuch\.\S+ does not exist \(NXDOMAIN\)"):
        discover_nameservers(f"nosuch.{zone}", (dns_lab.resolver,), timeout=3)
    with pytest.raises(NoNameserversError, match=r"ns1\.gone\.invalid\. have no IPv4 address"):
        discover_nameservers(zone, (dns_lab.resolver,), timeout=3)
    assert time.monotonic() - started < 3.0 + 2.0  # answers, not two 3 s timeouts
