"""The provision tasks' pure parts: the spec's domains become the engine's set-up inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboarding.controlpanel import CustomerDomain, InboundServer
from tasks.provision import customer_domains
from validation.spec import parse_spec


def test_customer_domains_carry_name_servers_priorities_and_port(tmp_path: Path) -> None:
    """Rule: every spec domain becomes one CustomerDomain, normalised name, servers in order."""
    data = {
        "customer": "Acme Corp",
        "reseller": "R",
        "domains": [
            {
                "name": "Acme.TEST.",
                "mail_servers": [
                    {"host": "mx1.acme.test", "priority": 5},
                    {"host": "mx2.acme.test"},
                ],
                "delivery_port": 2525,
            },
            {"name": "b.test", "mail_servers": [{"host": "127.0.0.1"}]},
        ],
        "users_csv": "users.csv",
        "hosted": {"imap_host": "imap.new.example", "imap_port": 993},
    }
    spec = parse_spec(data, path=tmp_path / "customer.yaml")
    assert customer_domains(spec) == (
        CustomerDomain(
            "acme.test",
            (InboundServer("mx1.acme.test", 5), InboundServer("mx2.acme.test", 10)),
            2525,
        ),
        CustomerDomain("b.test", (InboundServer("127.0.0.1", 10),), 25),
    )


def test_a_domain_without_inbound_servers_is_a_caller_mistake() -> None:
    """Rule: the engine's input refuses what set-up cannot route (ValueError, before any I/O)."""
    with pytest.raises(ValueError, match="inbound mail server"):
        CustomerDomain("a.test", ())
    with pytest.raises(ValueError, match="delivery_port"):
        CustomerDomain("a.test", (InboundServer("mx.a.test"),), delivery_port=0)
    with pytest.raises(ValueError, match="priority"):
        InboundServer("mx.a.test", priority=70000)
