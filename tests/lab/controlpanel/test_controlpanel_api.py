"""The lab control panel answers with the shapes the MailRoute contract documents."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

import httpx

from lab.controlpanel import database_path

Panel = Any  # the panel fixture (tests/lab/controlpanel/conftest.py)


def _uid() -> str:
    return secrets.token_hex(4)


def _reseller(panel: Panel) -> str:
    found = panel.http.get("/api/v1/reseller/", params={"name": "Lab Reseller"}).json()
    return str(found["objects"][0]["resource_uri"])


def _customer(panel: Panel) -> dict[str, Any]:
    r = panel.http.post(
        "/api/v1/customer/", json={"name": f"C {_uid()}", "reseller": _reseller(panel)}
    )
    assert r.status_code == 201
    return dict(r.json())


def _domain(panel: Panel, **extra: Any) -> dict[str, Any]:
    body = {"name": f"d{_uid()}.test", "customer": _customer(panel)["resource_uri"], **extra}
    r = panel.http.post("/api/v1/domain/", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_401_and_404_have_empty_html_bodies(panel: Panel) -> None:
    """Contract §1.1: bad credentials → 401, unknown id → 404, both empty text/html."""
    for headers in ({}, {"Authorization": "ApiKey lab-reseller:wrong"}):
        r = httpx.get(panel.url + "/api/v1/customer/", headers=headers)
        assert r.status_code == 401 and r.content == b""
        assert r.headers["content-type"].startswith("text/html")
    r = panel.http.get("/api/v1/domain/999999/")
    assert r.status_code == 404 and r.content == b""
    assert panel.http.get("/api/v1/nosuchthing/").status_code == 404


def test_root_map_and_schema_describe_the_resources(panel: Panel) -> None:
    """Contract §1: /api/v1/ maps resources to endpoints; /schema/ lists fields and filters."""
    root = panel.http.get("/api/v1/").json()
    for name in (
        "reseller",
        "customer",
        "domain",
        "mail_server",
        "email_account",
        "localpart_alias",
        "domain_alias",
    ):
        assert root[name]["list_endpoint"] == f"/api/v1/{name}/"
    schema = panel.http.get("/api/v1/domain/schema/").json()
    assert schema["fields"]["name"]["unique"] is True
    assert schema["fields"]["hold_email"]["default"] is False
    assert schema["fields"]["resource_uri"]["readonly"] is True
    assert "patch" not in schema["allowed_detail_http_methods"]  # KB4: no PATCH on domain
    assert panel.http.get("/api/v1/email_account/schema/").json()["filtering"]["id"] == ["in"]


def test_create_201_put_202_with_pk_delete_204(panel: Panel) -> None:
    """Contract §1.1: 201 + object, 202 + object with pk (string), 204 then 404."""
    domain = _domain(panel, hold_email=True, deliveryport=10024)
    assert domain["hold_email"] is True and domain["deliveryport"] == 10024
    assert domain["active"] is True
    assert domain["created_at"].endswith("+0000") and "," in domain["created_at"]  # RFC 2822
    uri = domain["resource_uri"]
    r = panel.http.put(uri, json={"hold_email": False})
    assert r.status_code == 202
    assert r.json()["pk"] == str(domain["id"]) and r.json()["hold_email"] is False
    assert panel.http.patch(uri, json={"hold_email": True}).status_code == 405
    assert panel.http.delete(uri).status_code == 204
    assert panel.http.get(uri).status_code == 404


def test_400_shapes_for_missing_fields_bad_uris_and_duplicates(panel: Panel) -> None:
    """Contract §1.1: 400 {"<resource>": {"field": ["msg"]}}; unique names are enforced."""
    r = panel.http.post("/api/v1/email_account/", json={"create_opt": "generate_pwd"})
    assert r.status_code == 400
    assert r.json()["email_account"]["localpart"] == ["This field is required."]
    r = panel.http.post("/api/v1/domain/", json={"name": "x.test", "customer": 5})
    assert "customer" in r.json()["domain"]
    domain = _domain(panel)
    r = panel.http.post(
        "/api/v1/domain/", json={"name": domain["name"].upper(), "customer": domain["customer"]}
    )
    assert r.status_code == 400
    assert "already exists" in r.json()["domain"]["name"][0]
    account = {
        "domain": domain["resource_uri"],
        "localpart": "Ann",
        "create_opt": "create_pwd",
        "password": "Pw-123456789",
        "confirm_password": "Pw-123456789",
    }
    first = panel.http.post("/api/v1/email_account/", json=account)
    assert first.status_code == 201 and first.json()["localpart"] == "ann"
    assert first.json()["create_opt"] is None and first.json()["password"] is None
    assert first.json()["domain_name"] == domain["name"]
    again = panel.http.post("/api/v1/email_account/", json={**account, "localpart": "ann"})
    assert again.status_code == 400 and "__all__" in again.json()["email_account"]
    mismatch = panel.http.post(
        "/api/v1/email_account/", json={**account, "localpart": "bo", "confirm_password": "x"}
    )
    assert "confirm_password" in mismatch.json()["email_account"]


def test_list_pagination_and_django_filters(panel: Panel) -> None:
    """Contract §1.2-1.3: meta.next is host-relative; name/startswith/relation/in filters."""
    domain = _domain(panel)
    ids = []
    for n in range(5):
        r = panel.http.post(
            "/api/v1/email_account/",
            json={
                "domain": domain["resource_uri"],
                "localpart": f"user{n}",
                "create_opt": "generate_pwd",
            },
        )
        ids.append(r.json()["id"])
    page = panel.http.get(
        "/api/v1/email_account/", params={"domain": domain["id"], "limit": 2}
    ).json()
    assert page["meta"]["total_count"] == 5 and len(page["objects"]) == 2
    assert page["meta"]["next"].startswith("/api/v1/email_account/?")
    second = panel.http.get(page["meta"]["next"]).json()
    assert [o["localpart"] for o in second["objects"]] == ["user2", "user3"]
    by_name = panel.http.get(
        "/api/v1/email_account/", params={"domain__name": domain["name"], "localpart": "USER4"}
    ).json()
    assert [o["id"] for o in by_name["objects"]] == [ids[4]]
    by_ids = panel.http.get(
        "/api/v1/email_account/", params={"id__in": f"{ids[0]},{ids[1]}"}
    ).json()
    assert by_ids["meta"]["total_count"] == 2
    starts = panel.http.get("/api/v1/domain/", params={"name__startswith": domain["name"][:6]})
    assert domain["id"] in [o["id"] for o in starts.json()["objects"]]
    refused = panel.http.get("/api/v1/mail_server/", params={"server": "x"})
    assert refused.status_code == 400


def test_only_a_password_hash_is_stored(panel: Panel) -> None:
    """Rule: the database holds {SSHA512} hashes, never the password."""
    domain = _domain(panel)
    password = "Unique-" + _uid() + "-pw"
    r = panel.http.post(
        "/api/v1/email_account/",
        json={
            "domain": domain["resource_uri"],
            "localpart": "hashme",
            "create_opt": "set_pwd",
            "password": password,
            "confirm_password": password,
        },
    )
    assert r.status_code == 201
    with sqlite3.connect(database_path(panel.state_dir)) as db:
        (stored,) = db.execute(
            "SELECT password_hash FROM email_account WHERE id = ?", (r.json()["id"],)
        ).fetchone()
    assert stored.startswith("{SSHA512}") and password not in stored
    raw = b"".join(
        p.read_bytes() for p in database_path(panel.state_dir).parent.iterdir() if p.is_file()
    )
    assert password.encode() not in raw


def test_deleting_a_domain_cascades_to_its_accounts(panel: Panel) -> None:
    """Contract §2.3: deleting a domain deletes its email accounts and mail servers."""
    domain = _domain(panel)
    acct = panel.http.post(
        "/api/v1/email_account/",
        json={"domain": domain["resource_uri"], "localpart": "gone", "create_opt": "generate_pwd"},
    ).json()
    panel.http.post(
        "/api/v1/mail_server/", json={"domain": domain["resource_uri"], "server": "mx.example.test"}
    )
    assert panel.http.delete(domain["resource_uri"]).status_code == 204
    assert panel.http.get(acct["resource_uri"]).status_code == 404
    assert (
        panel.http.get("/api/v1/mail_server/", params={"domain": domain["id"]}).json()["meta"][
            "total_count"
        ]
        == 0
    )
