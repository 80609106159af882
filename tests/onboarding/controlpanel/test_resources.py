"""The alias resources through the typed client against the lab control panel."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from onboarding.controlpanel import (
    NewCustomer,
    NewDomain,
    NewDomainAlias,
    NewEmailAccount,
    NewLocalpartAlias,
    NotFound,
    ValidationFailed,
)

Panel = Any  # the panel fixture (conftest.py)


def test_localpart_and_domain_aliases_round_trip(panel: Panel) -> None:
    """Rule: aliases are created, listed by their parent, updated and deleted (204 → 404)."""
    tag = secrets.token_hex(3)
    with panel.client() as cp:
        reseller = cp.resellers.find(name="Lab Reseller")
        assert reseller is not None
        customer = cp.customers.create(
            NewCustomer(name=f"Alias {tag}", reseller=reseller.resource_uri)
        )
        domain = cp.domains.create(NewDomain(name=f"al{tag}.test", customer=customer.resource_uri))
        account = cp.email_accounts.create(
            NewEmailAccount(domain=domain.resource_uri, localpart="boss")
        )
        alias = cp.localpart_aliases.create(
            NewLocalpartAlias(email_account=account.resource_uri, localpart="sales")
        )
        assert alias.domain == domain.resource_uri
        assert [a.localpart for a in cp.localpart_aliases.list(email_account=account.id)] == [
            "sales"
        ]
        assert cp.email_accounts.get(account.id).aliases == "sales"
        dalias = cp.domain_aliases.create(
            NewDomainAlias(domain=domain.resource_uri, name=f"alias{tag}.test")
        )
        assert cp.domain_aliases.update(dalias.id, {"active": False}).active is False
        with pytest.raises(ValidationFailed) as dup:
            cp.domain_aliases.create(NewDomainAlias(domain=domain.resource_uri, name=dalias.name))
        assert "name" in dup.value.field_errors
        cp.localpart_aliases.delete(alias.id)
        with pytest.raises(NotFound):
            cp.localpart_aliases.get(alias.id)
