"""The lab identity provider: Microsoft's and Google's token contracts, errors included."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest

from lab import Lab
from lab.idp import load_registry

_SCOPE = "https://outlook.office365.com/.default"


def _microsoft(lab: Lab, tenant: str, **form: str) -> httpx.Response:
    body = {"grant_type": "client_credentials", "scope": _SCOPE, **form}
    return httpx.post(f"{lab.idp.authority}/{tenant}/oauth2/v2.0/token", data=body)


def test_idp_is_listed_by_status_and_its_secrets_stand_in_for_secret_blocks(lab: Lab) -> None:
    """`lab status` lists the identity provider; the demo app's client secret and service
    account key are ONBOARD_SECRET_* values like the lab's passwords."""
    assert lab.status().server("idp").healthy
    env = lab.secret_env()
    demo = lab.idp.demo()
    assert env["ONBOARD_SECRET_ACME_M365_CLIENT_SECRET"] == demo["client_secret"]
    key = json.loads(env["ONBOARD_SECRET_ACME_GOOGLE_SERVICE_ACCOUNT"])
    assert key["type"] == "service_account" and key["token_uri"] == lab.idp.google_token_uri


def test_client_credentials_token_has_microsofts_shape(lab: Lab) -> None:
    """token_type/expires_in/access_token; the JWT is signed with the registry's key."""
    app = lab.idp.add_microsoft_app("shape.test")
    resp = _microsoft(lab, app.tenant_id, client_id=app.client_id, client_secret=app.client_secret)
    data = resp.json()
    assert resp.status_code == 200 and data["token_type"] == "Bearer"
    assert 0 < data["expires_in"] <= 3600
    header = jwt.get_unverified_header(data["access_token"])
    assert header["alg"] == "HS256" and header["kid"] == load_registry(lab.state_dir)["key_id"]
    claims = jwt.decode(data["access_token"], options={"verify_signature": False})
    assert claims["tid"] == app.tenant_id and claims["roles"] == ["IMAP.AccessAsApp"]
    assert claims["exp"] - claims["iat"] == data["expires_in"]


@pytest.mark.parametrize(
    ("case", "status", "error", "code"),
    [
        ("tenant", 400, "invalid_request", 90002),
        ("app", 400, "unauthorized_client", 700016),
        ("secret", 401, "invalid_client", 7000215),
    ],
)
def test_microsoft_errors_carry_their_aadsts_codes(
    lab: Lab, case: str, status: int, error: str, code: int
) -> None:
    """Unknown tenant, unknown app, wrong secret: Microsoft's status, error and code."""
    app = lab.idp.add_microsoft_app("errors.test")
    tenant = "00000000-0000-0000-0000-000000000000" if case == "tenant" else app.tenant_id
    client = "11111111-1111-1111-1111-111111111111" if case == "app" else app.client_id
    secret = "wrong" if case == "secret" else app.client_secret
    resp = _microsoft(lab, tenant, client_id=client, client_secret=secret)
    data = resp.json()
    assert resp.status_code == status and data["error"] == error
    assert data["error_codes"] == [code] and data["error_description"].startswith(f"AADSTS{code}:")


def test_google_jwt_bearer_grant_issues_a_token_for_the_subject(lab: Lab) -> None:
    """RFC 7523: an RS256 assertion by the service account key, sub = the user."""
    key = json.loads(lab.idp.add_google_service_account("g.test"))
    now = int(time.time())
    claims = {
        "iss": key["client_email"],
        "sub": "ann@g.test",
        "scope": "https://mail.google.com/",
        "aud": key["token_uri"],
        "iat": now,
        "exp": now + 300,
    }
    assertion = jwt.encode(
        claims, key["private_key"], algorithm="RS256", headers={"kid": key["private_key_id"]}
    )
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    data = httpx.post(key["token_uri"], data=form).json()
    token = jwt.decode(data["access_token"], options={"verify_signature": False})
    assert data["token_type"] == "Bearer" and token["sub"] == "ann@g.test"
    claims["sub"] = "ann@other.test"  # outside the delegated domain
    form["assertion"] = jwt.encode(
        claims, key["private_key"], algorithm="RS256", headers={"kid": key["private_key_id"]}
    )
    assert httpx.post(key["token_uri"], data=form).json()["error"] == "invalid_grant"
