"""provision_aliases: created / already existed / conflict / failed per alias (lab panel)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from support.panel_customer import new_customer_domain

from onboarding.controlpanel import (
    AuthenticationFailed,
    ControlPanelClient,
    NewEmailAccount,
    Outcome,
    RetryPolicy,
    provision_aliases,
)

Panel = Any  # the panel fixture (conftest.py)
ALIAS_PATH = "/api/v1/localpart_alias/"


@dataclass(frozen=True)
class Owner:
    email: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    name: str
    uri: str
    accounts: dict[str, str]  # address -> account URI


@pytest.fixture
def domain(panel: Panel) -> Iterator[Domain]:
    """A new customer's domain with three mailboxes: jane, bob, eve."""
    with panel.client() as cp:
        d = new_customer_domain(
            cp, f"Ali {secrets.token_hex(3)}", f"ali{secrets.token_hex(3)}.test"
        )
        accounts = {}
        for name in ("jane", "bob", "eve"):
            account = cp.email_accounts.create(
                NewEmailAccount(
                    domain=d.resource_uri,
                    localpart=name,
                    password=SecretStr(f"Pw-{secrets.token_hex(6)}!"),
                )
            )
            accounts[f"{name}@{d.name}"] = account.resource_uri
    yield Domain(d.name, d.resource_uri, accounts)
    panel.http.delete("/_lab/faults")


def _aliases_of(panel: Panel, account_uri: str) -> set[str]:
    """What the control panel says: the account's read-only, comma-joined aliases field."""
    field = panel.http.get(account_uri).json()["aliases"]
    return {a for a in field.split(",") if a}


def _faults(panel: Panel, *rules: dict[str, Any]) -> None:
    assert panel.http.post("/_lab/faults", json={"faults": list(rules)}).status_code == 200


def test_first_run_creates_and_rerun_only_reads(panel: Panel, domain: Domain) -> None:
    """Rule: missing aliases are created (read back via the API); a re-run sends no write."""
    jane, bob = f"jane@{domain.name}", f"bob@{domain.name}"
    owners = [Owner(jane, ("sales", "INFO", "sales")), Owner(bob, ("billing",))]
    with panel.client() as cp:
        first = provision_aliases(cp, owners, {domain.name: domain.uri}, concurrency=2)
    assert [(r.alias, r.account, r.outcome) for r in first.aliases] == [
        (f"sales@{domain.name}", jane, Outcome.CREATED),
        (f"info@{domain.name}", jane, Outcome.CREATED),
        (f"billing@{domain.name}", bob, Outcome.CREATED),
    ]
    assert first.requests == {"GET": 2, "POST": 3}  # one domain listing, the schema, 3 creates
    assert _aliases_of(panel, domain.accounts[jane]) == {"sales", "info"}
    assert _aliases_of(panel, domain.accounts[bob]) == {"billing"}

    with panel.client() as cp:
        again = provision_aliases(cp, owners, {domain.name: domain.uri})
    assert again.requests == {"GET": 1}, "a complete customer costs one listing, no write"
    assert {r.outcome for r in again.aliases} == {Outcome.EXISTED}
    assert again.reconciles and again.counts["already existed"] == 3


def test_alias_of_another_account_is_a_conflict_and_stays(panel: Panel, domain: Domain) -> None:
    """Rule: an alias owned by another account is a conflict naming it; it is never moved."""
    jane, bob = f"jane@{domain.name}", f"bob@{domain.name}"
    panel.http.post(
        ALIAS_PATH, json={"email_account": domain.accounts[bob], "localpart": "sales"}
    ).raise_for_status()
    with panel.client() as cp:
        report = provision_aliases(cp, [Owner(jane, ("sales", "info"))], {domain.name: domain.uri})
    conflict, created = report.aliases
    assert conflict.outcome is Outcome.CONFLICT and created.outcome is Outcome.CREATED
    assert conflict.reason == f"sales@{domain.name} already delivers to {bob} in the control panel"
    assert f"remove it from {bob}" in conflict.action and "never moves" in conflict.action
    assert report.requests.get("POST") == 1, "nothing is sent for the conflicting alias"
    assert _aliases_of(panel, domain.accounts[bob]) == {"sales"}
    assert _aliases_of(panel, domain.accounts[jane]) == {"info"}
    assert report.counts == {"created": 1, "already existed": 0, "failed": 0, "conflict": 1}


def test_alias_that_is_a_mailbox_is_a_conflict(panel: Panel, domain: Domain) -> None:
    """Rule: an alias whose address is a mailbox of its own is a conflict, not a create."""
    jane = f"jane@{domain.name}"
    with panel.client() as cp:
        (result,) = provision_aliases(
            cp, [Owner(jane, ("eve",))], {domain.name: domain.uri}
        ).aliases
    assert result.outcome is Outcome.CONFLICT
    assert "is a mailbox of its own" in result.reason and "delete" in result.action
    assert _aliases_of(panel, domain.accounts[jane]) == set()


def test_lost_answer_is_resolved_by_reading_the_account_aliases(
    panel: Panel, domain: Domain
) -> None:
    """Rule: a create that landed but whose answer was lost is 'created', not a duplicate."""
    jane = f"jane@{domain.name}"
    _faults(panel, {"kind": "lose_answer", "count": 1, "method": "POST", "path_prefix": ALIAS_PATH})
    with panel.client() as cp:
        (result,) = provision_aliases(
            cp, [Owner(jane, ("sales",))], {domain.name: domain.uri}
        ).aliases
    assert result.outcome is Outcome.CREATED and "answer was lost" in result.reason
    listed = panel.http.get(
        ALIAS_PATH, params={"email_account": domain.accounts[jane].rstrip("/").rsplit("/", 1)[1]}
    ).json()
    assert [a["localpart"] for a in listed["objects"]] == ["sales"]


def test_transient_errors_are_retried_and_a_400_fails_only_that_alias(
    panel: Panel, domain: Domain
) -> None:
    """Rule: 500s and 429s are absorbed; a permanent 400 fails that alias with the reason."""
    jane = f"jane@{domain.name}"
    _faults(
        panel,
        {"kind": "status", "status": 500, "count": 2, "method": "POST", "path_prefix": ALIAS_PATH},
        {
            "kind": "status",
            "status": 429,
            "retry_after": 0,
            "count": 1,
            "method": "POST",
            "path_prefix": ALIAS_PATH,
        },
        {
            "kind": "reject",
            "match": {"localpart": "abuse"},
            "field": "localpart",
            "message": "This name is reserved.",
            "path_prefix": ALIAS_PATH,
        },
    )
    with panel.client() as cp:
        report = provision_aliases(
            cp, [Owner(jane, ("sales", "abuse", "info"))], {domain.name: domain.uri}
        )
    outcomes = {r.alias.split("@")[0]: r for r in report.aliases}
    assert outcomes["sales"].outcome is Outcome.CREATED
    assert outcomes["info"].outcome is Outcome.CREATED
    assert outcomes["abuse"].outcome is Outcome.FAILED
    assert outcomes["abuse"].reason == (
        "the control panel refused it (400): localpart: This name is reserved."
    )
    assert [r["fired"] for r in panel.http.get("/_lab/faults").json()["faults"]] == [2, 1, 1]
    assert _aliases_of(panel, domain.accounts[jane]) == {"sales", "info"}


def test_missing_account_and_blocked_domain_fail_with_their_reason(
    panel: Panel, domain: Domain
) -> None:
    """Rule: no alias is created for a mailbox that does not exist; the reason says why."""
    owners = [
        Owner(f"ghost@{domain.name}", ("sales",)),
        Owner("x@blocked.test", ("info",)),
        Owner(f"bob@{domain.name}", ("billing",)),
    ]
    with panel.client() as cp:
        report = provision_aliases(
            cp,
            owners,
            {domain.name: domain.uri, "blocked.test": None},
            blocked={"blocked.test": "domain blocked.test is owned by another customer"},
            missing={f"ghost@{domain.name}": "the control panel refused it (400)"},
        )
    ghost, blocked, billing = report.aliases
    assert ghost.outcome is Outcome.FAILED
    assert ghost.reason == (
        f"the mailbox ghost@{domain.name} does not exist (creating it failed: the control "
        "panel refused it (400)); fix the mailbox and re-run"
    )
    assert blocked.reason == "domain blocked.test is owned by another customer"
    assert billing.outcome is Outcome.CREATED and report.reconciles


def test_a_rejected_key_stops_everything(panel: Panel, domain: Domain) -> None:
    """Rule: 401 is not a per-alias failure: it stops the run at once."""
    with (
        ControlPanelClient(panel.url, "lab-reseller:wrong", retry=RetryPolicy(attempts=1)) as cp,
        pytest.raises(AuthenticationFailed),
    ):
        provision_aliases(cp, [Owner(f"jane@{domain.name}", ("sales",))], {domain.name: domain.uri})


def test_no_aliases_means_no_request(panel: Panel, domain: Domain) -> None:
    """Rule: a customer without aliases costs nothing: no domain is read."""
    with panel.client() as cp:
        report = provision_aliases(
            cp, [Owner(f"jane@{domain.name}", ())], {domain.name: domain.uri}
        )
        assert report.aliases == () and report.requests == {}


def test_a_domain_whose_listing_keeps_failing_fails_only_its_own_aliases(
    panel: Panel, domain: Domain
) -> None:
    """Rule: a listing that fails after every retry fails that domain's aliases with the
    reason; the other domain's aliases are still created and nothing is raised."""
    with panel.client() as cp:
        other = new_customer_domain(
            cp, f"Ali {secrets.token_hex(3)}", f"ali{secrets.token_hex(3)}.test"
        )
        cp.email_accounts.create(
            NewEmailAccount(
                domain=other.resource_uri,
                localpart="ann",
                password=SecretStr(f"Pw-{secrets.token_hex(6)}!"),
            )
        )
    # the first domain read gets every try of the client (4) refused; the second one is fine
    _faults(
        panel,
        {
            "kind": "status",
            "status": 500,
            "count": 4,
            "method": "GET",
            "path_prefix": "/api/v1/email_account/",
        },
    )
    owners = [
        Owner(f"jane@{domain.name}", ("sales", "info")),
        Owner(f"ann@{other.name}", ("billing",)),
    ]
    with panel.client() as cp:
        report = provision_aliases(
            cp, owners, {domain.name: domain.uri, other.name: other.resource_uri}
        )
    sales, info, billing = report.aliases
    for failed in (sales, info):
        assert failed.outcome is Outcome.FAILED
        assert failed.reason.startswith(f"listing the accounts of {domain.name} failed: ")
        assert "failed (500)" in failed.reason
    assert billing.outcome is Outcome.CREATED
    assert report.counts == {"created": 1, "already existed": 0, "failed": 2, "conflict": 0}
    assert _aliases_of(panel, domain.accounts[f"jane@{domain.name}"]) == set()


def test_a_refused_alias_costs_a_few_gets_not_a_reread_of_the_domain(
    panel: Panel, domain: Domain
) -> None:
    """Rule: a permanent 400 on one alias is checked with filtered GETs; its cost does not
    grow with the number of accounts in the domain."""
    with panel.client() as cp:
        for n in range(30):
            cp.email_accounts.create(
                NewEmailAccount(
                    domain=domain.uri,
                    localpart=f"user{n:02d}",
                    password=SecretStr(f"Pw-{secrets.token_hex(6)}!"),
                )
            )
    jane = f"jane@{domain.name}"
    _faults(
        panel,
        {
            "kind": "reject",
            "match": {"localpart": "abuse"},
            "field": "localpart",
            "message": "This name is reserved.",
            "path_prefix": ALIAS_PATH,
        },
    )
    with panel.client(page_size=5) as cp:  # 33 accounts: the listing takes 7 pages
        report = provision_aliases(cp, [Owner(jane, ("abuse",))], {domain.name: domain.uri})
    (abuse,) = report.aliases
    assert abuse.outcome is Outcome.FAILED and "This name is reserved." in abuse.reason
    listing = 7
    extra = report.requests["GET"] - listing
    assert extra < 5, f"a refused alias cost {extra} GETs besides the listing"
    assert report.requests.get("POST") == 1, "a permanent 400 is not tried again"
