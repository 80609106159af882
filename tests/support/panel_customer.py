"""A fresh customer and domain on a lab control panel, for tests that need their own."""

from __future__ import annotations

from onboarding.controlpanel import ControlPanelClient, Domain, NewCustomer, NewDomain

LAB_RESELLER = "Lab Reseller"  # seeded by every lab control panel


def new_customer_domain(
    cp: ControlPanelClient, customer: str, domain: str, *, deliveryport: int = 25
) -> Domain:
    """Create customer ``customer`` under the lab reseller and its domain ``domain``; return it."""
    reseller = cp.resellers.find(name=LAB_RESELLER)
    assert reseller is not None, f"the lab control panel has no {LAB_RESELLER!r}"
    created = cp.customers.create(NewCustomer(name=customer, reseller=reseller.resource_uri))
    return cp.domains.create(
        NewDomain(name=domain, customer=created.resource_uri, deliveryport=deliveryport)
    )
