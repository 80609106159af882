"""The cutover's control-panel steps against the lab control panel, which applies them to
the lab gateway: each step writes once, a repeat writes nothing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from lab import Lab
from onboarding.controlpanel import (
    ControlPanelClient,
    CustomerDomain,
    InboundServer,
    set_up_customer,
)
from onboarding.cutover import (
    DeliveryTarget,
    DomainMissing,
    DomainPhase,
    hold_delivery,
    read_domain_state,
    release_delivery,
    switch_routing,
)


@pytest.fixture
def cp(lab: Lab) -> Iterator[ControlPanelClient]:
    lab.controlpanel.wait_ready()
    key = lab.controlpanel.api_key()
    assert key is not None
    with ControlPanelClient(lab.controlpanel.base_url, key) as client:
        yield client


@pytest.fixture
def domain(cp: ControlPanelClient, lab: Lab) -> str:
    name = f"r{secrets.token_hex(4)}.test"
    spec = CustomerDomain(
        name=name,
        mail_servers=(InboundServer(host="127.0.0.1"),),
        delivery_port=lab.ports.source_lmtp,
    )
    result = set_up_customer(
        cp, customer=f"Routing {name}", reseller="Lab Reseller", domains=(spec,)
    )
    assert not result.conflicts
    return name


def _writes(cp: ControlPanelClient) -> int:
    return sum(n for m, n in cp.requests_made.items() if m in ("POST", "PUT", "PATCH", "DELETE"))


def test_hold_and_release_write_once_and_reach_the_gateway(
    cp: ControlPanelClient, lab: Lab, domain: str
) -> None:
    """Hold and release each write once (a repeat changes nothing and sends no write), the gateway
    holds and releases the domain, and the read state follows (HELD, then PENDING)."""
    target = DeliveryTarget("127.0.0.1", lab.ports.destination_lmtp)
    first = hold_delivery(cp, domain)
    before = _writes(cp)
    second = hold_delivery(cp, domain)
    assert first.changed and not second.changed and _writes(cp) == before
    assert lab.gateway.is_held(domain)
    assert read_domain_state(cp, domain, target).phase is DomainPhase.HELD
    assert release_delivery(cp, domain).changed
    before = _writes(cp)
    assert not release_delivery(cp, domain).changed and _writes(cp) == before
    assert not lab.gateway.is_held(domain)
    assert read_domain_state(cp, domain, target).phase is DomainPhase.PENDING


def test_switch_to_another_host_adds_it_then_drops_the_old_entry(
    cp: ControlPanelClient, lab: Lab, domain: str
) -> None:
    """The hosted entry is added before the old one goes; a repeat changes nothing."""
    target = DeliveryTarget("localhost", lab.ports.destination_lmtp)
    step = switch_routing(cp, domain, target)
    assert step.changed and "removed 127.0.0.1" in step.detail
    state = read_domain_state(cp, domain, target)
    assert state.servers == (("localhost", 10),) and state.phase is DomainPhase.DONE
    assert lab.gateway.route(domain) == f"lmtp:inet:localhost:{lab.ports.destination_lmtp}"
    before = _writes(cp)
    assert not switch_routing(cp, domain, target).changed and _writes(cp) == before


def test_unknown_domain_says_to_provision_first(cp: ControlPanelClient) -> None:
    """Holding a domain the control panel does not know raises DomainMissing telling the operator to
    run ``onboard provision``."""
    with pytest.raises(DomainMissing, match="onboard provision"):
        hold_delivery(cp, "never-provisioned.test")
