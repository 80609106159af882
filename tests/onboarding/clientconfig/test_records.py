"""RFC 6186 / RFC 8314 SRV records and autoconfig/autodiscover names for a domain."""

from __future__ import annotations

import dns.rrset
from support.public_api import exported_names

from onboarding.clientconfig import ClientHosts, client_records

HOSTS = ClientHosts(
    "imap.mailroute.test", "smtp.mailroute.test.", "ac.mailroute.test", "ad.mr.test"
)


def test_records_offer_implicit_tls_and_mark_plain_services_not_offered() -> None:
    """SRV records offer IMAPS 993 and submissions 465 first, STARTTLS submission 587 after; plain
    IMAP and POP3 are ``0 0 0 .`` (RFC 2782: not offered); autoconfig and autodiscover point at our
    hosts."""
    recs = {(r.name, r.rdtype): r.value for r in client_records("acme.test", HOSTS)}
    assert recs[("_imaps._tcp.acme.test", "SRV")] == "0 1 993 imap.mailroute.test."
    assert recs[("_submissions._tcp.acme.test", "SRV")] == "0 1 465 smtp.mailroute.test."
    assert recs[("_submission._tcp.acme.test", "SRV")] == "10 1 587 smtp.mailroute.test."
    for plain in ("_imap._tcp", "_pop3._tcp", "_pop3s._tcp"):
        assert recs[(f"{plain}.acme.test", "SRV")] == "0 0 0 ."  # RFC 2782: not offered
    assert recs[("autoconfig.acme.test", "CNAME")] == "ac.mailroute.test."
    assert recs[("autodiscover.acme.test", "CNAME")] == "ad.mr.test."
    assert recs[("_autodiscover._tcp.acme.test", "SRV")] == "0 0 443 ad.mr.test."


def test_every_record_parses_as_zone_data() -> None:
    """Every record the plan gives parses as one DNS record of its type."""
    for r in client_records("acme.test", HOSTS):
        rrset = dns.rrset.from_text(r.name + ".", 3600, "IN", r.rdtype, r.value)
        assert len(rrset) == 1


def test_public_surface() -> None:
    """The package exports exactly its ``__all__``."""
    import onboarding.clientconfig as pkg

    assert exported_names(pkg) == set(pkg.__all__)
