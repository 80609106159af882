"""Answers decoded from wire messages: TTLs, AA, negative TTL (RFC 2308 §5), CNAME, rcodes."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdatatype
import pytest

from onboarding.dnscheck._exceptions import ServerFailureError
from onboarding.dnscheck.query import AnswerStatus, Server, _answer_from, parse_server

NS = Server("127.0.0.1", 10053)


def _wire(text: str) -> dns.message.Message:
    """Parse a dig-style message and round-trip it through wire bytes."""
    return dns.message.from_wire(dns.message.from_text(text).to_wire())


def _answer(  # type: ignore[no-untyped-def]
    qname: str,
    rdtype: str,
    *,
    rcode: str = "NOERROR",
    flags: str = "QR AA",
    answer: tuple[str, ...] = (),
    authority: tuple[str, ...] = (),
):
    """Decode the reply to ``qname``/``rdtype`` whose sections hold the given dig-style records."""
    text = f"id 1\nopcode QUERY\nrcode {rcode}\nflags {flags}\n;QUESTION\n{qname}. IN {rdtype}\n"
    for section, records in ((";ANSWER", answer), (";AUTHORITY", authority)):
        if records:
            text += "\n".join((section, *records)) + "\n"
    return _answer_from(_wire(text), dns.name.from_text(qname), dns.rdatatype.from_text(rdtype), NS)


def test_parse_server_forms() -> None:
    """A server is an IPv4 or IPv6 address with an optional port (default 53, IPv6 in brackets when
    a port follows); a host name is a ValueError."""
    assert parse_server("127.0.0.1:10053") == Server("127.0.0.1", 10053)
    assert parse_server("192.0.2.1") == Server("192.0.2.1", 53)
    assert parse_server("[2001:db8::1]:5353") == Server("2001:db8::1", 5353)
    assert parse_server("2001:db8::1") == Server("2001:db8::1", 53)
    assert str(Server("2001:db8::1", 5353)) == "[2001:db8::1]:5353"
    with pytest.raises(ValueError, match="must be an IP address"):
        parse_server("ns1.acme.test:53")


def test_authoritative_mx_answer_keeps_the_configured_ttl() -> None:
    """An authoritative MX answer is OK and authoritative, with the zone's TTL and every record in
    order."""
    ans = _answer(
        "acme.test",
        "MX",
        answer=(
            "acme.test. 3600 IN MX 10 mx1.old.test.",
            "acme.test. 3600 IN MX 20 mx2.old.test.",
        ),
    )
    assert ans.status is AnswerStatus.OK and ans.authoritative
    assert ans.ttl == 3600
    assert ans.records == ("10 mx1.old.test.", "20 mx2.old.test.")


def test_split_txt_strings_are_joined_without_separator() -> None:
    """A TXT record split into strings reads as one value joined without a separator; a resolver's
    answer is not authoritative and keeps its remaining TTL."""
    ans = _answer(
        "mr1._domainkey.acme.test",
        "TXT",
        flags="QR RD RA",
        answer=('mr1._domainkey.acme.test. 297 IN TXT "v=DKIM1; k=rsa; " "p=ABC"',),
    )
    assert ans.records == ("v=DKIM1; k=rsa; p=ABC",)
    assert ans.ttl == 297 and not ans.authoritative


def test_nxdomain_negative_ttl_is_min_of_soa_ttl_and_minimum() -> None:
    """NXDOMAIN's negative TTL is the smaller of the SOA's TTL and its MINIMUM (RFC 2308 5); the
    answer carries the serial and says the name does not exist."""
    ans = _answer(
        "_dmarc.acme.test",
        "TXT",
        rcode="NXDOMAIN",
        authority=("acme.test. 60 IN SOA ns1.acme.test. host.acme.test. 7 3600 600 86400 3",),
    )
    assert ans.status is AnswerStatus.NXDOMAIN
    assert (ans.negative_ttl, ans.serial, ans.exists) == (3, 7, False)


def test_nodata_is_not_nxdomain() -> None:
    """NOERROR without answers is NODATA, not NXDOMAIN, with its negative TTL from the SOA."""
    ans = _answer(
        "acme.test",
        "MX",
        authority=("acme.test. 30 IN SOA ns1.acme.test. host.acme.test. 7 3600 600 86400 300",),
    )
    assert ans.status is AnswerStatus.NODATA and ans.negative_ttl == 30


def test_cname_chain_in_the_answer_is_followed() -> None:
    """A CNAME in the answer is followed: the records and TTL are those of the target."""
    ans = _answer(
        "autoconfig.acme.test",
        "A",
        flags="QR RD RA",
        answer=(
            "autoconfig.acme.test. 300 IN CNAME autoconfig.mailroute.test.",
            "autoconfig.mailroute.test. 120 IN A 192.0.2.80",
        ),
    )
    assert ans.records == ("192.0.2.80",) and ans.ttl == 120


@pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED"])
def test_error_rcodes_raise_with_server_and_rcode(rcode: str) -> None:
    """SERVFAIL and REFUSED raise ServerFailureError carrying the rcode and the server, and the
    message says what the server answered."""
    with pytest.raises(ServerFailureError) as info:
        _answer("acme.test", "MX", rcode=rcode, flags="QR")
    assert info.value.rcode == rcode and info.value.server == "127.0.0.1:10053"
    assert f"the server answered {rcode}" in str(info.value)
