"""The starlette app of the lab identity provider (see the package docstring)."""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from lab.idp._registry import Registry, load_registry

__all__ = ["GOOGLE_UNAUTHORIZED", "JWT_BEARER", "build_app", "issue_token"]

_MAX_REQUEST = 64 * 1024
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_UNAUTHORIZED = (
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested."
)


def issue_token(registry: Registry, claims: dict[str, Any]) -> dict[str, Any]:
    """A token response (``token_type``/``expires_in``/``access_token``) for ``claims``.

    ``mailbox_scope`` is the claim the source Dovecot checks (its ``username_attribute``, with
    ``username_format = %Ld``): the user for Google, ``*@<tenant domain>`` for an app-only
    Microsoft token, whose app may open every mailbox of its tenant.
    """
    now = int(time.time())
    lifetime = int(registry["lifetime_seconds"])
    body = {**claims, "iat": now, "nbf": now, "exp": now + lifetime, "jti": secrets.token_hex(8)}
    key = base64.b64decode(registry["signing_key"])
    token = jwt.encode(body, key, algorithm="HS256", headers={"kid": registry["key_id"]})
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }


def _aad_error(status: int, error: str, code: int, text: str) -> JSONResponse:
    trace = secrets.token_hex(8)
    return JSONResponse(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {trace}",
            "error_codes": [code],
            "trace_id": trace,
        },
        status_code=status,
    )


def _assertion_refused(
    app: dict[str, Any], form: dict[str, str], token_url: str
) -> Response | None:
    """Check a certificate credential (RS256 JWT, ``x5t`` = the registered certificate)."""
    cert = app.get("certificate")
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
        if cert is None or header.get("x5t") != cert["x5t"]:
            raise jwt.InvalidSignatureError("unknown thumbprint")
        jwt.decode(assertion, cert["public_key"], algorithms=["RS256"], audience=token_url)
    except jwt.PyJWTError:
        return _aad_error(
            401, "invalid_client", 700027, "Client assertion contains an invalid signature."
        )
    return None


def _microsoft(registry: Registry, tenant: str, form: dict[str, str], token_url: str) -> Response:
    if form.get("grant_type") != "client_credentials":
        return _aad_error(
            400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
        )
    t = registry["tenants"].get(tenant)
    if t is None:
        return _aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
    client_id = form.get("client_id", "")
    app = t["apps"].get(client_id)
    if app is None:
        return _aad_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
        )
    if "client_assertion" in form:
        refused = _assertion_refused(app, form, token_url)
        if refused is not None:
            return refused
    elif not secrets.compare_digest(form.get("client_secret", ""), app["secret"]):
        return _aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is "
            f"the client secret value, not the client secret ID, for a secret added to app "
            f"'{client_id}'.",
        )
    if form.get("scope") != MICROSOFT_SCOPE:
        return _aad_error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {form.get('scope')} is not valid.",
        )
    claims = {
        "iss": f"https://sts.windows.net/{tenant}/",
        "aud": "https://outlook.office365.com",
        "tid": tenant,
        "appid": client_id,
        "roles": app.get("roles", ["IMAP.AccessAsApp"]),
        "sub": client_id,
        "mailbox_scope": f"*@{t['domain']}",
    }
    return JSONResponse(issue_token(registry, claims))


def _google_error(error: str, text: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": text}, status_code=400)


def _google(registry: Registry, token_url: str, form: dict[str, str]) -> Response:
    if form.get("grant_type") != JWT_BEARER:
        return _google_error("unsupported_grant_type", "Invalid grant_type: ")
    assertion = form.get("assertion", "")
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return _google_error("invalid_request", "Invalid JWT: malformed.")
    account = registry["service_accounts"].get(str(unverified.get("iss")))
    if account is None:
        return _google_error("invalid_grant", "Invalid grant: account not found")
    expires = account.get("key_expires")
    if header.get("kid") != account["key_id"] or (expires is not None and expires < time.time()):
        return _google_error("invalid_grant", "Invalid JWT Signature.")
    try:
        claims = jwt.decode(
            assertion,
            account["public_key"],
            algorithms=["RS256"],
            # google-auth puts Google's own token URL in ``aud`` whatever the token_uri is
            audience=[token_url, GOOGLE_TOKEN_AUDIENCE],
        )
    except jwt.InvalidSignatureError:
        return _google_error("invalid_grant", "Invalid JWT Signature.")
    except jwt.ExpiredSignatureError:
        return _google_error("invalid_grant", "Invalid JWT: Token must be a short-lived token.")
    except jwt.PyJWTError as exc:
        return _google_error("invalid_grant", f"Invalid JWT: {type(exc).__name__}")
    user = str(claims.get("sub") or "")
    scopes = set(str(claims.get("scope", "")).split())
    if not user or user.rsplit("@", 1)[-1].lower() != account["domain"].lower():
        return _google_error("invalid_grant", "Invalid email or User ID")
    if not scopes or not scopes <= set(account["scopes"]):
        return _google_error("unauthorized_client", GOOGLE_UNAUTHORIZED)
    body = {
        "iss": "https://accounts.google.com",
        "aud": account["client_id"],
        "azp_email": unverified["iss"],
        "scope": " ".join(sorted(scopes)),
        "sub": user,
        "mailbox_scope": user,
    }
    return JSONResponse(issue_token(registry, body))


async def _form(request: Request) -> dict[str, str]:
    """The ``application/x-www-form-urlencoded`` body both token endpoints take."""
    body = (await request.body())[:_MAX_REQUEST].decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def build_app(state_dir: Path, *, port: int) -> Starlette:
    """The app answering from ``state_dir``'s registry."""
    google_token_url = f"http://127.0.0.1:{port}/token"

    async def index(request: Request) -> Response:
        return PlainTextResponse("lab identity provider\n")

    async def microsoft(request: Request) -> Response:
        form = await _form(request)
        tenant = request.path_params["tenant"]
        token_url = f"http://127.0.0.1:{port}/{tenant}/oauth2/v2.0/token"
        return _microsoft(load_registry(state_dir), tenant, form, token_url)

    async def google(request: Request) -> Response:
        form = await _form(request)
        return _google(load_registry(state_dir), google_token_url, form)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/token", google, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/token", microsoft, methods=["POST"]),
        ]
    )
