"""Fault injection and request counting of the lab control panel, seen through the client."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from onboarding.controlpanel import (
    ControlPanelClient,
    NewCustomer,
    RetryPolicy,
    ServerError,
    TransportError,
)

Panel = Any  # the panel fixture (tests/lab/controlpanel/conftest.py)


@pytest.fixture
def faults(panel: Panel) -> Iterator[Any]:
    def install(*rules: dict[str, Any]) -> None:
        r = panel.http.post("/_lab/faults", json={"faults": list(rules)})
        assert r.status_code == 200, r.text

    yield install
    panel.http.delete("/_lab/faults")


def _client(panel: Panel, attempts: int = 4) -> ControlPanelClient:
    return ControlPanelClient(
        panel.url, panel.key, retry=RetryPolicy(attempts=attempts, backoff=0.01, jitter=0)
    )


def _fired(panel: Panel) -> list[int]:
    return [r["fired"] for r in panel.http.get("/_lab/faults").json()["faults"]]


def test_500s_429s_and_drops_are_injected_then_the_request_succeeds(
    panel: Panel, faults: Any
) -> None:
    """Rule: count-limited 500/429/drop rules fire exactly that often; the client gets through."""
    faults(
        {"kind": "status", "status": 500, "count": 1, "method": "POST"},
        {"kind": "status", "status": 429, "retry_after": 1, "count": 1, "method": "POST"},
        {"kind": "drop", "count": 1, "method": "POST"},
    )
    reseller = _client(panel).resellers.find(name="Lab Reseller")
    assert reseller is not None
    name = f"Faulty {secrets.token_hex(3)}"
    started = time.monotonic()
    with _client(panel) as cp:
        created = cp.customers.create(NewCustomer(name=name, reseller=reseller.resource_uri))
        assert cp.requests_made["POST"] == 4
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    assert created.name == name
    assert _fired(panel) == [1, 1, 1]


def test_exhausted_faults_surface_as_typed_errors(panel: Panel, faults: Any) -> None:
    """Rule: a server that keeps failing ends in ServerError / TransportError, not httpx errors."""
    faults({"kind": "status", "status": 503, "path_prefix": "/api/v1/domain/"})
    with pytest.raises(ServerError):
        _client(panel, attempts=2).domains.all()
    faults({"kind": "drop", "path_prefix": "/api/v1/domain/"})
    with pytest.raises(TransportError):
        _client(panel, attempts=2).domains.all()


def test_reject_rule_is_a_permanent_400_for_matching_bodies_only(panel: Panel, faults: Any) -> None:
    """Rule: a reject rule answers 400 in the contract's shape for the matching body only."""
    faults(
        {
            "kind": "reject",
            "match": {"name": "Blocked Co"},
            "field": "name",
            "message": "Reserved name.",
        }
    )
    reseller = panel.http.get("/api/v1/reseller/").json()["objects"][0]["resource_uri"]
    r = panel.http.post("/api/v1/customer/", json={"name": "Blocked Co", "reseller": reseller})
    assert r.status_code == 400
    assert r.json() == {"customer": {"name": ["Reserved name."]}}
    ok = panel.http.post(
        "/api/v1/customer/", json={"name": f"Fine {secrets.token_hex(3)}", "reseller": reseller}
    )
    assert ok.status_code == 201


def test_latency_rule_delays_answers(panel: Panel, faults: Any) -> None:
    """Rule: a latency rule delays every matching request by its seconds."""
    faults({"kind": "latency", "seconds": 0.3, "path_prefix": "/api/v1/reseller/"})
    started = time.monotonic()
    panel.http.get("/api/v1/reseller/")
    assert time.monotonic() - started >= 0.3


def test_stats_count_requests_by_method(panel: Panel) -> None:
    """Rule: /_lab/stats counts API requests by method; POST resets them."""
    assert panel.http.post("/_lab/stats").status_code == 200
    panel.http.get("/api/v1/reseller/")
    panel.http.get("/api/v1/customer/")
    panel.http.post("/api/v1/customer/", json={})
    stats = panel.http.get("/_lab/stats").json()
    assert stats["requests"] == {"GET": 2, "POST": 1}
    assert stats["writes"] == 1
    assert httpx.get(panel.url + "/_lab/stats").status_code == 401


def test_rate_rules_fire_at_random_but_reproducibly(panel: Panel) -> None:
    """Rule: a rate rule fires for about that share of requests; the same seed, the same ones."""

    def statuses() -> list[int]:
        panel.http.post(
            "/_lab/faults",
            json={
                "seed": 42,
                "faults": [
                    {
                        "kind": "status",
                        "status": 500,
                        "rate": 0.5,
                        "path_prefix": "/api/v1/reseller/",
                    }
                ],
            },
        )
        try:
            return [panel.http.get("/api/v1/reseller/").status_code for _ in range(40)]
        finally:
            panel.http.delete("/_lab/faults")

    first = statuses()
    assert 8 <= first.count(500) <= 32 and set(first) == {200, 500}
    assert statuses() == first


def test_a_slow_answer_times_out_and_is_retried(panel: Panel, faults: Any) -> None:
    """Rule: a request slower than the client's timeout is retried; the next answer is used."""
    # The stall is far beyond the timeout, and the timeout leaves the retried (fast) request
    # ample room on a loaded machine, so exactly one request times out.
    faults({"kind": "latency", "seconds": 3.0, "count": 1, "path_prefix": "/api/v1/reseller/"})
    with ControlPanelClient(
        panel.url, panel.key, timeout=1.0, retry=RetryPolicy(attempts=3, backoff=0.01, jitter=0)
    ) as cp:
        assert cp.resellers.find(name="Lab Reseller") is not None
        assert cp.requests_made == {"GET": 2}
