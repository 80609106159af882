"""provision_accounts: per-account outcomes, retries, lost answers, blocked domains, 401 stop."""

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
    Outcome,
    RetryPolicy,
    provision_accounts,
)

Panel = Any  # the panel fixture (conftest.py)


@dataclass(frozen=True)
class Cred:
    email: str
    password: SecretStr


@pytest.fixture
def domain(panel: Panel) -> Iterator[tuple[str, str]]:
    with panel.client() as cp:
        d = new_customer_domain(
            cp, f"Acc {secrets.token_hex(3)}", f"acc{secrets.token_hex(3)}.test"
        )
    yield d.name, d.resource_uri
    panel.http.delete("/_lab/faults")


def _creds(domain: str, n: int) -> list[Cred]:
    return [Cred(f"User{i}@{domain}", SecretStr(f"Pw-{secrets.token_hex(6)}")) for i in range(n)]


def test_outcomes_in_input_order_and_existing_accounts_are_not_rewritten(
    panel: Panel, domain: tuple[str, str]
) -> None:
    """Rule: created / already existed per account, input order, counts reconcile."""
    name, uri = domain
    creds = _creds(name, 5)
    with panel.client() as cp:
        first = provision_accounts(cp, creds[:2], {name: uri}, concurrency=2)
    with panel.client() as cp:
        report = provision_accounts(cp, creds, {name: uri}, concurrency=3)
        assert report.requests == {"GET": 2, "POST": 3}  # schema + one listing page
    assert [a.outcome for a in first.accounts] == [Outcome.CREATED] * 2
    assert [a.email for a in report.accounts] == [c.email for c in creds]
    assert [a.outcome for a in report.accounts] == [Outcome.EXISTED] * 2 + [Outcome.CREATED] * 3
    assert report.reconciles and report.counts == {"created": 3, "already existed": 2, "failed": 0}


def test_lost_answer_is_resolved_by_looking_the_account_up(
    panel: Panel, domain: tuple[str, str]
) -> None:
    """Rule: a create that landed but whose answer was lost is 'created', not a duplicate."""
    name, uri = domain
    panel.http.post(
        "/_lab/faults",
        json={
            "faults": [
                {
                    "kind": "lose_answer",
                    "count": 1,
                    "method": "POST",
                    "path_prefix": "/api/v1/email_account/",
                }
            ]
        },
    )
    creds = _creds(name, 1)
    with panel.client() as cp:
        report = provision_accounts(cp, creds, {name: uri})
    (result,) = report.accounts
    assert result.outcome is Outcome.CREATED
    assert "answer was lost" in result.reason
    listed = panel.http.get("/api/v1/email_account/", params={"domain__name": name}).json()
    assert listed["meta"]["total_count"] == 1


def test_server_errors_beyond_client_retries_fail_only_those_accounts(
    panel: Panel, domain: tuple[str, str]
) -> None:
    """Rule: an account whose POSTs keep failing ends 'failed' with the reason; others go on."""
    name, uri = domain
    creds = _creds(name, 3)
    panel.http.post(
        "/_lab/faults",
        json={"faults": [{"kind": "status", "status": 503, "match": {"localpart": "user1"}}]},
    )
    with panel.client(retry=RetryPolicy(attempts=2, backoff=0.01, jitter=0)) as cp:
        report = provision_accounts(cp, creds, {name: uri}, attempts=2)
    outcomes = {a.email: a for a in report.accounts}
    assert outcomes[creds[1].email].outcome is Outcome.FAILED
    assert outcomes[creds[1].email].attempts == 2
    assert "503" in outcomes[creds[1].email].reason
    assert {outcomes[creds[i].email].outcome for i in (0, 2)} == {Outcome.CREATED}


def test_blocked_and_unknown_domains_fail_with_their_reason(
    panel: Panel, domain: tuple[str, str]
) -> None:
    """Rule: accounts in a domain that could not be set up fail with that domain's reason."""
    name, uri = domain
    creds = [*_creds("blocked.test", 1), *_creds("elsewhere.test", 1), *_creds(name, 1)]
    with panel.client() as cp:
        report = provision_accounts(
            cp,
            creds,
            {name: uri, "blocked.test": None},
            blocked={"blocked.test": "domain blocked.test is owned by another customer"},
        )
    reasons = [a.reason for a in report.accounts]
    assert reasons[0] == "domain blocked.test is owned by another customer"
    assert "not in the spec" in reasons[1]
    assert report.accounts[2].outcome is Outcome.CREATED


def test_a_rejected_key_stops_everything(panel: Panel, domain: tuple[str, str]) -> None:
    """Rule: 401 is not a per-account failure: it stops the run at once."""
    name, uri = domain
    with (
        ControlPanelClient(panel.url, "lab-reseller:wrong") as cp,
        pytest.raises(AuthenticationFailed),
    ):
        provision_accounts(cp, _creds(name, 3), {name: uri})
