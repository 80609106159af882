"""The customer's side of DNS in the lab: zone text and the records a plan asks for."""

from __future__ import annotations

from lab.customer_dns import Record, planned_records, zone_text


def test_zone_text_has_soa_ns_and_body_with_the_ttl_as_negative_ttl() -> None:
    """A zone is complete (SOA, NS, glue) and its negative-cache TTL is the zone TTL."""
    text = zone_text("acme.test", "@ IN MX 10 mail.acme.test.", ttl=7)
    lines = text.splitlines()
    assert lines[:2] == ["$ORIGIN acme.test.", "$TTL 7"]
    assert lines[2].startswith("@ IN SOA ns1.acme.test. hostmaster.acme.test. ")
    assert lines[2].endswith(" 3600 600 86400 7")
    assert lines[3:] == [
        "@ IN NS ns1.acme.test.",
        "ns1 IN A 127.0.0.1",
        "@ IN MX 10 mail.acme.test.",
    ]


def test_planned_records_keeps_adds_and_keeps_per_domain() -> None:
    """The customer publishes what the plan adds or keeps, never what it removes."""
    plan = {
        "domains": [
            {
                "domain": "acme.test",
                "changes": [
                    {"action": "remove", "name": "acme.test", "type": "MX", "value": "10 old."},
                    {"action": "add", "name": "acme.test", "type": "MX", "value": "10 mail."},
                    {"action": "keep", "name": "acme.test", "type": "TXT", "value": "v=spf1"},
                ],
            },
            {"domain": "empty.test", "changes": []},
        ]
    }
    assert planned_records(plan) == {
        "acme.test": [
            Record("acme.test", "MX", "10 mail."),
            Record("acme.test", "TXT", "v=spf1"),
        ],
        "empty.test": [],
    }
