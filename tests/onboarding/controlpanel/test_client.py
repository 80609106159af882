"""The typed client: pagination, filters, schema-filtered bodies, PUT/201 variants, surface."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from support.public_api import exported_names

import onboarding.controlpanel as cp_module
from onboarding.controlpanel import (
    ControlPanelClient,
    NewDomain,
    NewEmailAccount,
    RetryPolicy,
    UnexpectedResponse,
    uri_id,
)

KEY = "tester:secretkey"


def _domain(i: int, **extra: object) -> dict[str, object]:
    return {
        "id": i,
        "name": f"d{i}.test",
        "customer": "/api/v1/customer/7/",
        "resource_uri": f"/api/v1/domain/{i}/",
        "hold_email": False,
        "deliveryport": 25,
        **extra,
    }


def _client(handler) -> ControlPanelClient:
    return ControlPanelClient(
        "https://cp.test/",
        KEY,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=1),
        page_size=2,
    )


def test_list_follows_meta_next_with_filters_and_auth_header() -> None:
    """Rule: lists follow host-relative meta.next until null; filters go on the first page."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"ApiKey {KEY}"
        assert request.headers["Accept"] == "application/json"
        seen.append(str(request.url))
        query = parse_qs(urlsplit(str(request.url)).query)
        offset = int(query.get("offset", ["0"])[0])
        objects = [_domain(i) for i in range(offset, min(offset + 2, 5))]
        nxt = f"/api/v1/domain/?name__startswith=d&limit=2&offset={offset + 2}"
        meta = {
            "limit": 2,
            "offset": offset,
            "total_count": 5,
            "next": nxt if offset + 2 < 5 else None,
        }
        return httpx.Response(200, json={"meta": meta, "objects": objects})

    domains = _client(handler).domains.all(name__startswith="d", hold_email=False)
    assert [d.id for d in domains] == [0, 1, 2, 3, 4]
    assert seen[0] == "https://cp.test/api/v1/domain/?limit=2&name__startswith=d&hold_email=false"
    assert seen[1:] == [
        "https://cp.test/api/v1/domain/?name__startswith=d&limit=2&offset=2",
        "https://cp.test/api/v1/domain/?name__startswith=d&limit=2&offset=4",
    ]


def test_create_sends_only_writable_schema_fields_and_reads_schema_once() -> None:
    """Rule: bodies carry only fields the server's schema lists as writable (contract §6.5)."""
    schema_reads = 0
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal schema_reads
        if request.url.path == "/api/v1/domain/schema/":
            schema_reads += 1
            fields = {
                "name": {"readonly": False},
                "customer": {"readonly": False},
                "hold_email": {"readonly": False},
                "deliveryport": {"readonly": False},
                "userlist_complete": {"readonly": False},  # the 2013 dev API's field
                "id": {"readonly": True},
            }
            return httpx.Response(200, json={"fields": fields})
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json=_domain(len(bodies)))

    cp = _client(handler)
    for n in range(2):
        cp.domains.create(NewDomain(name=f"x{n}.test", customer="/api/v1/customer/7/"))
    assert schema_reads == 1
    assert set(bodies[0]) == {"name", "customer", "hold_email", "deliveryport"}  # no active, ...


def test_account_body_has_confirm_password_and_repr_hides_it() -> None:
    """Rule: a caller-supplied password goes as password + confirm_password; repr hides it."""
    new = NewEmailAccount(domain="/api/v1/domain/1/", localpart="al", password="S3cret!pass")
    assert "S3cret" not in repr(new)
    body = new.body()
    assert body["password"] == body["confirm_password"] == "S3cret!pass"
    assert body["create_opt"] == "create_pwd"
    generated = NewEmailAccount(domain="/api/v1/domain/1/", localpart="al").body()
    assert generated["create_opt"] == "generate_pwd" and "password" not in generated


def test_put_merges_onto_current_object_and_rereads_after_204() -> None:
    """Rule: PUT = GET, merge, PUT writable fields; a 204 answer is followed by a GET."""
    state = _domain(3, hold_email=False, active=True, policy="/api/v1/policy_domain/1/")
    puts: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/schema/"):
            names = ("name", "customer", "hold_email", "deliveryport", "active")
            return httpx.Response(200, json={"fields": {n: {} for n in names}})
        if request.method == "PUT":
            puts.append(json.loads(request.content))
            state.update(puts[-1])
            return httpx.Response(204)
        return httpx.Response(200, json=state)

    held = _client(handler).set_hold(3, True)
    assert held.hold_email is True
    assert puts == [
        {
            "name": "d3.test",
            "customer": "/api/v1/customer/7/",
            "hold_email": True,
            "deliveryport": 25,
            "active": True,
        }
    ]


def test_201_without_body_falls_back_to_location() -> None:
    """Rule: a 201 with an empty text/html body is resolved through Location (contract §1.1)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/schema/"):
            return httpx.Response(200, json={"fields": {"name": {}, "customer": {}}})
        if request.method == "POST":
            return httpx.Response(
                201, headers={"Location": "http://127.0.0.1:8000/api/v1/domain/9/"}, text=""
            )
        assert request.url.path == "/api/v1/domain/9/"
        return httpx.Response(200, json=_domain(9))

    created = _client(handler).domains.create(NewDomain(name="d9.test", customer="/x/7/"))
    assert created.id == 9


def test_malformed_answers_raise_unexpected_response() -> None:
    """Rule: a non-JSON or wrongly shaped body is UnexpectedResponse, not a crash."""
    cp = _client(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(UnexpectedResponse, match="not JSON"):
        cp.domains.get(1)
    cp = _client(lambda r: httpx.Response(200, json={"id": 1}))
    with pytest.raises(UnexpectedResponse, match="name"):
        cp.domains.get(1)


def test_bad_key_shape_is_a_caller_error_without_echoing_it() -> None:
    """Rule: the key must be login:key; the error does not repeat the value."""
    with pytest.raises(ValueError) as info:
        ControlPanelClient("https://cp.test", "justakey123")
    assert "justakey123" not in str(info.value)
    assert uri_id("/api/v1/domain/111/") == 111


def test_public_surface_matches_all() -> None:
    """Rule: __all__ lists exactly the public names the package exports."""
    assert set(cp_module.__all__) == exported_names(cp_module)


def test_a_schema_without_password_refuses_to_create_accounts() -> None:
    """Rule: if the server cannot take our password, say so instead of creating the account."""
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.url.path.endswith("/schema/"):
            return httpx.Response(
                200, json={"fields": {"localpart": {}, "domain": {}, "create_opt": {}}}
            )
        posts += 1
        return httpx.Response(201, json={})

    with pytest.raises(UnexpectedResponse, match="password"):
        _client(handler).email_accounts.create(
            NewEmailAccount(domain="/api/v1/domain/1/", localpart="a", password="Pw-123456789")
        )
    assert posts == 0
