"""set_up_customer: creates what is missing, reports conflicts with an action, never overwrites."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from support.panel_customer import LAB_RESELLER

from onboarding.controlpanel import (
    ControlPanelClient,
    CustomerDomain,
    InboundServer,
    NotFound,
    Outcome,
    SetupResult,
    set_up_customer,
)

Panel = Any  # the panel fixture (conftest.py)


def _tag() -> str:
    return secrets.token_hex(3)


def _spec(name: str, *servers: tuple[str, int], port: int = 25) -> CustomerDomain:
    return CustomerDomain(
        name=name,
        mail_servers=tuple(InboundServer(host=h, priority=p) for h, p in servers),
        delivery_port=port,
    )


def _set_up(
    cp: ControlPanelClient,
    customer: str,
    domains: list[CustomerDomain],
    hosted: tuple[str, int] | None = None,
) -> SetupResult:
    """set_up_customer for ``customer`` under the lab's reseller."""
    return set_up_customer(
        cp, customer=customer, reseller=LAB_RESELLER, domains=domains, hosted=hosted
    )


def _other_customer(panel: Panel) -> str:
    reseller = panel.http.get("/api/v1/reseller/").json()["objects"][0]["resource_uri"]
    body = {"name": f"Someone Else {_tag()}", "reseller": reseller}
    return str(panel.http.post("/api/v1/customer/", json=body).json()["resource_uri"])


def test_first_setup_creates_then_second_only_reads(panel: Panel) -> None:
    """Rule: missing objects are created; a second run finds them all and writes nothing."""
    tag = _tag()
    domains = [_spec(f"a{tag}.test", ("mx1.a.test", 10), ("mx2.a.test", 20), port=2525)]
    with panel.client() as cp:
        first = _set_up(cp, f"Acme {tag}", domains)
    assert [o.outcome for o in first.objects] == [Outcome.CREATED] * 4
    with panel.client() as cp:
        second = _set_up(cp, f"Acme {tag}", domains)
        assert set(cp.requests_made) == {"GET"}
    assert [o.outcome for o in second.objects] == [Outcome.EXISTED] * 4
    assert second.domains[0].uri == first.domains[0].uri
    (domain,) = panel.http.get("/api/v1/domain/", params={"name": f"a{tag}.test"}).json()["objects"]
    assert domain["deliveryport"] == 2525 and domain["hold_email"] is False


def test_domain_owned_by_another_customer_is_a_conflict_and_blocks_its_accounts(
    panel: Panel,
) -> None:
    """Rule: a domain under another customer is reported with an action and left unchanged."""
    tag = _tag()
    other = _other_customer(panel)
    theirs = panel.http.post(
        "/api/v1/domain/", json={"name": f"t{tag}.test", "customer": other}
    ).json()
    domains = [_spec(f"t{tag}.test", ("mx.t.test", 10)), _spec(f"o{tag}.test", ("mx.o.test", 10))]
    with panel.client() as cp:
        result = _set_up(cp, f"Ours {tag}", domains)
    taken, ours = result.domains
    assert taken.domain.outcome is Outcome.CONFLICT and taken.uri is None
    assert "another customer" in taken.domain.detail and "MailRoute support" in taken.domain.action
    assert "no accounts" in taken.blocked_reason
    assert ours.domain.outcome is Outcome.CREATED and ours.uri is not None
    after = panel.http.get(theirs["resource_uri"]).json()
    assert after["customer"] == other and after["updated_at"] == theirs["updated_at"]
    assert (
        panel.http.get("/api/v1/mail_server/", params={"domain": theirs["id"]}).json()["meta"][
            "total_count"
        ]
        == 0
    )


def test_mail_server_with_another_priority_is_a_conflict_not_an_update(panel: Panel) -> None:
    """Rule: routing that differs from the spec is reported, never changed or added to."""
    tag = _tag()
    name = f"r{tag}.test"
    with panel.client() as cp:
        _set_up(cp, f"Route {tag}", [_spec(name, ("mx1.r.test", 10))])
    with panel.client() as cp:
        result = _set_up(cp, f"Route {tag}", [_spec(name, ("mx1.r.test", 30), ("mx2.r.test", 40))])
        assert set(cp.requests_made) == {"GET"}
    (routing,) = result.domains[0].routing
    assert routing.outcome is Outcome.CONFLICT
    assert "mx1.r.test priority 10 (spec: 30)" in routing.detail
    assert "update `mail_servers`" in routing.action
    assert result.domains[0].uri is not None  # accounts can still be created
    (domain,) = panel.http.get("/api/v1/domain/", params={"name": name}).json()["objects"]
    servers = panel.http.get("/api/v1/mail_server/", params={"domain": domain["id"]}).json()
    assert [(s["server"], s["priority"]) for s in servers["objects"]] == [("mx1.r.test", 10)]


def test_partial_routing_is_completed(panel: Panel) -> None:
    """Rule: a run killed between mail servers is finished by the next run (subset = ok)."""
    tag = _tag()
    name = f"p{tag}.test"
    with panel.client() as cp:
        _set_up(cp, f"Part {tag}", [_spec(name, ("mx1.p.test", 10))])
        again = _set_up(cp, f"Part {tag}", [_spec(name, ("mx1.p.test", 10), ("mx2.p.test", 20))])
    assert [o.outcome for o in again.domains[0].routing] == [Outcome.EXISTED, Outcome.CREATED]


def test_customer_of_another_reseller_and_unknown_reseller(panel: Panel) -> None:
    """Rule: a name taken under another reseller is a conflict; an unknown reseller stops."""
    tag = _tag()
    other = panel.http.post("/api/v1/reseller/", json={"name": f"Other R {tag}"}).json()
    panel.http.post(
        "/api/v1/customer/", json={"name": f"Taken {tag}", "reseller": other["resource_uri"]}
    )
    with panel.client() as cp:
        result = _set_up(cp, f"Taken {tag}", [_spec(f"k{tag}.test", ("mx.k.test", 10))])
        assert result.customer.outcome is Outcome.CONFLICT
        assert result.domains[0].uri is None and result.domains[0].domain.outcome is Outcome.FAILED
        assert set(cp.requests_made) == {"GET"}
        with pytest.raises(NotFound, match="reseller 'Nobody' not found"):
            set_up_customer(cp, customer="X", reseller="Nobody", domains=[])


def test_domain_taken_by_an_invisible_tenant_is_a_conflict(panel: Panel) -> None:
    """Contract §6.2: a 400 'name already exists' we cannot see is a conflict, not retried."""
    tag = _tag()
    name = f"h{tag}.test"
    panel.http.post(
        "/_lab/faults",
        json={
            "faults": [
                {
                    "kind": "reject",
                    "match": {"name": name},
                    "field": "name",
                    "message": "Domain with this Name already exists.",
                }
            ]
        },
    )
    try:
        with panel.client() as cp:
            result = _set_up(cp, f"Hidden {tag}", [_spec(name, ("mx.h.test", 10))])
    finally:
        fired = panel.http.get("/_lab/faults").json()["faults"][0]["fired"]
        panel.http.delete("/_lab/faults")
    (domain,) = result.domains
    assert domain.domain.outcome is Outcome.CONFLICT and domain.uri is None
    assert "another MailRoute account" in domain.domain.detail
    assert "already exists" in domain.domain.detail
    assert fired == 1


def test_a_cut_over_domain_keeps_its_hosted_routing(panel: Panel) -> None:
    """Rule: after the cutover the domain routes to the hosted mailboxes; set-up given that
    target reports the routing as existing and writes nothing (so users added to the list
    later can be provisioned), while a different routing is still a conflict."""
    from onboarding.cutover import DeliveryTarget, switch_routing

    tag = _tag()
    name = f"c{tag}.test"
    domains = [_spec(name, ("mx.old.test", 10))]
    hosted = ("hosted.test", 2525)
    with panel.client() as cp:
        _set_up(cp, f"Cut {tag}", domains)
        switch_routing(cp, name, DeliveryTarget(*hosted))
    with panel.client() as cp:
        after = _set_up(cp, f"Cut {tag}", domains, hosted)
        assert set(cp.requests_made) == {"GET"}
    (routing,) = after.domains[0].routing
    assert routing.outcome is Outcome.EXISTED and "since the cutover" in routing.detail
    assert after.domains[0].uri is not None
    with panel.client() as cp:
        elsewhere = _set_up(cp, f"Cut {tag}", domains, ("other.test", 25))
    (routing,) = elsewhere.domains[0].routing
    assert routing.outcome is Outcome.CONFLICT and "hosted.test" in routing.detail
