"""A 2048-bit DKIM round trip through the lab DNS: sign, publish the split record, verify."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from onboarding.dnscheck.dkim import check_dkim, load_key, sign_message, verify_message
from onboarding.dnscheck.query import make_resolver, query_authoritative
from onboarding.dnscheck.results import Severity
from onboarding.dnscheck.zonefile import txt_rdata

from .conftest import DNSLab

# A 512-bit RSA public key (SubjectPublicKeyInfo), too small for RFC 8301 verifiers.
# cryptography will not generate one, but a public key needs only a 512-bit modulus.
SMALL_KEY = base64.b64encode(
    rsa.RSAPublicNumbers(65537, (1 << 511) | (1 << 100) | 1)
    .public_key()
    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()
MESSAGE = (
    b"From: Alice <alice@{d}>\r\nTo: bob@example.test\r\nSubject: cutover test\r\n"
    b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@{d}>\r\n\r\nHello from the lab.\r\n"
)


def test_sign_publish_verify_2048_bit(dns_lab: DNSLab, zone: str) -> None:
    """Our 2048-bit key, published as two TXT strings, reads back as one record; a message signed
    with it verifies through the resolver, a tampered one does not, and check_dkim passes."""
    key = load_key(zone, "mr1", None)
    assert key.bits == 2048
    dns_lab.publish(zone, f"mr1._domainkey IN TXT {txt_rdata(key.record)}")
    published = query_authoritative(key.record_name, "TXT", dns_lab.auth, timeout=3)
    assert published.records == (key.record,)  # two strings on the wire, joined back

    resolver = make_resolver((dns_lab.resolver,), timeout=3)
    message = MESSAGE.replace(b"{d}", zone.encode())
    signed = sign_message(message, key)
    assert signed.startswith(
        b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + zone.encode()
    )
    assert verify_message(signed, resolver=resolver, timeout=3)
    tampered = signed.replace(b"Hello from the lab.", b"Hello from elsewhere.")
    assert not verify_message(tampered, resolver=resolver, timeout=3)

    result = check_dkim(
        zone, "mr1", resolver=resolver, expected_public_b64=key.public_b64, timeout=3
    )
    assert (result.status, result.codes()) == (Severity.PASS, ("ok",))
    assert "(2048 bits)" in result.findings[0].message


def test_check_finds_missing_foreign_and_testing_keys(dns_lab: DNSLab, zone: str) -> None:
    """check_dkim names each problem: another key (key-mismatch), t=y (testing-flag), no record
    (no-key), no RSA key (unparsable-key) and a 512-bit key (key-too-small, citing RFC 8301)."""
    ours = load_key(zone, "mr1", None, bits=1024)
    theirs = load_key(zone, "old", None, bits=1024)
    dns_lab.publish(
        zone,
        f"mr1._domainkey IN TXT {txt_rdata(theirs.record)}\n"
        f"t1._domainkey IN TXT {txt_rdata(ours.record + '; t=y')}\n"
        f'bad._domainkey IN TXT "v=DKIM1; k=rsa; p=bm90IGEga2V5"\n'
        f'small._domainkey IN TXT "v=DKIM1; k=rsa; p={SMALL_KEY}"',
    )
    resolver = make_resolver((dns_lab.resolver,), timeout=3)

    def check(selector: str):  # type: ignore[no-untyped-def]
        return check_dkim(
            zone, selector, resolver=resolver, expected_public_b64=ours.public_b64, timeout=3
        )

    assert check("mr1").codes() == ("key-mismatch",)
    assert check("t1").codes() == ("testing-flag",)
    assert check("none").codes() == ("no-key",)
    assert check("bad").codes() == ("unparsable-key",)
    small = check("small")
    assert small.codes() == ("key-too-small", "key-mismatch")
    assert "has 512 bits; receivers reject RSA keys under 1024 bits (RFC 8301" in (
        small.findings[0].message
    )
    assert check("none").findings[0].message == f"{zone}: no DKIM key at none._domainkey.{zone}"


def test_minimum_key_size_is_accepted(dns_lab: DNSLab, zone: str) -> None:
    """RFC 8301: 1024 bits is the floor verifiers accept."""
    key = load_key(zone, "mr1", None, bits=1024)
    dns_lab.publish(zone, f"mr1._domainkey IN TXT {txt_rdata(key.record)}")
    resolver = make_resolver((dns_lab.resolver,), timeout=3)
    signed = sign_message(MESSAGE.replace(b"{d}", zone.encode()), key)
    assert verify_message(signed, resolver=resolver, timeout=3)
