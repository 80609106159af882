"""The lab DNS pair: NSD answers with the configured TTL at once, Unbound caches until expiry."""

from __future__ import annotations

import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from support.poll import until

from lab import Lab, unique_domain

ZONE = """$TTL {ttl}
@    IN SOA ns1 hostmaster {serial} 60 60 600 {minimum}
@    IN NS  ns1
ns1  IN A   192.0.2.53
@    IN MX  10 {mx}
"""


def _ask(address: tuple[str, int], name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, address[0], port=address[1], timeout=2)


def _mx(address: tuple[str, int], name: str) -> dns.rrset.RRset | None:
    response = _ask(address, name, "MX")
    return response.get_rrset(
        response.answer, dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.MX
    )


def _exchange(rrset: dns.rrset.RRset | None) -> str:
    assert rrset is not None
    return str(rrset[0].exchange)


def test_authoritative_answers_with_configured_ttl(lab: Lab) -> None:
    """NSD returns the zone's TTL unchanged and sets AA; Unbound then counts it down."""
    origin = unique_domain()
    lab.dns.set_zone(origin, ZONE.format(ttl=300, serial=1, minimum=60, mx="mx1." + origin + "."))
    first = _ask(lab.dns.auth_address, origin, "MX")
    assert first.flags & dns.flags.AA
    assert first.answer[0].ttl == 300
    cached = _mx(lab.dns.resolver_address, origin)
    assert cached is not None and cached.ttl <= 300
    assert until(
        lambda: (r := _mx(lab.dns.resolver_address, origin)) is not None and r.ttl < cached.ttl,
        timeout=3,
    )
    assert _ask(lab.dns.auth_address, origin, "MX").answer[0].ttl == 300


def test_change_reaches_the_resolver_only_after_the_ttl(lab: Lab) -> None:
    """After a zone change NSD answers new data at once; Unbound keeps the old MX until the
    TTL ends, then returns the new one (the cutover's propagation wait, in seconds)."""
    origin = unique_domain()
    ttl = 5  # Unbound counts whole seconds: a short TTL leaves no room to see the old answer
    lab.dns.set_zone(origin, ZONE.format(ttl=ttl, serial=1, minimum=2, mx=f"old.{origin}."))
    assert _exchange(_mx(lab.dns.resolver_address, origin)) == f"old.{origin}."
    changed_at = time.monotonic()
    # Same serial on purpose: set_zone bumps it so NSD reloads.
    serial = lab.dns.set_zone(
        origin, ZONE.format(ttl=ttl, serial=1, minimum=2, mx=f"new.{origin}.")
    )
    assert serial == 2
    assert _exchange(_mx(lab.dns.auth_address, origin)) == f"new.{origin}."
    assert _exchange(_mx(lab.dns.resolver_address, origin)) == f"old.{origin}."
    assert until(
        lambda: _exchange(_mx(lab.dns.resolver_address, origin)) == f"new.{origin}.",
        timeout=ttl + 3,
    )
    assert time.monotonic() - changed_at >= ttl - 1.5  # not before the cached TTL ran out


def test_negative_answer_is_cached_too(lab: Lab) -> None:
    """A name added after an NXDOMAIN was cached appears at the resolver only later."""
    origin = unique_domain()
    zone = ZONE.format(ttl=60, serial=1, minimum=4, mx=f"mx.{origin}.")  # negative TTL 4 s
    lab.dns.set_zone(origin, zone)
    name = f"_dmarc.{origin}"
    assert _ask(lab.dns.resolver_address, name, "TXT").rcode() == dns.rcode.NXDOMAIN
    lab.dns.set_zone(origin, zone + '_dmarc 60 IN TXT "v=DMARC1; p=none"\n')
    assert _ask(lab.dns.auth_address, name, "TXT").answer
    assert _ask(lab.dns.resolver_address, name, "TXT").rcode() == dns.rcode.NXDOMAIN
    assert until(lambda: bool(_ask(lab.dns.resolver_address, name, "TXT").answer), timeout=8)


def test_names_outside_the_lab_never_leave_the_machine(lab: Lab) -> None:
    """The resolver only knows the lab NSD: a public name fails instead of leaking out."""
    response = _ask(lab.dns.resolver_address, "example.com", "A")
    assert response.rcode() in (dns.rcode.SERVFAIL, dns.rcode.REFUSED)
    assert not response.answer


def test_invalid_zone_text_is_refused(lab: Lab) -> None:
    """A zone without SOA is a caller error naming the zone."""
    with pytest.raises(ValueError, match="SOA"):
        lab.dns.set_zone(unique_domain(), "$TTL 60\n@ IN MX 10 mx1\n")


def test_zones_outside_test_are_refused(lab: Lab) -> None:
    """Lab zones stay under the reserved .test TLD, so no real name can be shadowed."""
    with pytest.raises(ValueError, match=r"\.test"):
        lab.dns.set_zone("example.com", ZONE.format(ttl=60, serial=1, minimum=60, mx="mx1"))
