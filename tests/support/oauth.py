"""OAuth2 source logins on the lab: a Microsoft 365 app or a Google service account per domain.

For engine tests and other helpers' migrations (the Gmail-like source logs in the Google way)::

    endpoint = google_source(lab, user.email)          # AUTHENTICATE XOAUTH2, token per user
    endpoint = microsoft_source(lab, app, user.email)  # app = lab.idp.add_microsoft_app(domain)
    auth = google_auth(lab, domain, monkeypatch)       # flows: make_customer(..., auth=auth)
    auth = microsoft_auth(lab, app, monkeypatch, secret=None)
"""

from __future__ import annotations

import secrets
from typing import TypeVar

import pytest

from lab import Lab
from lab._idp import MicrosoftApp
from onboarding.mailsync import Endpoint
from onboarding.mailsync.oauth import GoogleTokens, MicrosoftTokens, TokenSource

M = TypeVar("M", bound=MicrosoftTokens)

__all__ = [
    "google_auth",
    "google_source",
    "google_tokens",
    "microsoft_auth",
    "microsoft_source",
    "microsoft_tokens",
    "oauth_source",
]


def _secret_block(monkeypatch: pytest.MonkeyPatch, kind: str, value: str) -> str:
    """A fresh Secret block name whose ONBOARD_SECRET_* stand-in holds ``value``."""
    block = f"t-{kind}-{secrets.token_hex(3)}"
    monkeypatch.setenv("ONBOARD_SECRET_" + block.upper().replace("-", "_"), value)
    return block


def microsoft_auth(
    lab: Lab, app: MicrosoftApp, monkeypatch: pytest.MonkeyPatch, *, secret: str | None = None
) -> dict[str, str]:
    """The spec's ``migration.source.auth`` for ``app`` (its secret, or ``secret``, in a block)."""
    value = app.client_secret if secret is None else secret
    return {
        "mode": "microsoft365",
        "tenant_id": app.tenant_id,
        "client_id": app.client_id,
        "client_secret_secret": _secret_block(monkeypatch, "m365", value),
        "token_url": lab.idp.authority,
    }


def google_auth(
    lab: Lab, domain: str, monkeypatch: pytest.MonkeyPatch, **account: object
) -> dict[str, str]:
    """The spec's ``migration.source.auth`` for a new service account delegated over
    ``domain`` (``scopes=``, ``key_expires=``: see ``lab.idp.add_google_service_account``)."""
    key = lab.idp.add_google_service_account(domain, **account)  # type: ignore[arg-type]
    return {"mode": "google", "service_account_secret": _secret_block(monkeypatch, "sa", key)}


def microsoft_tokens(
    lab: Lab, app: MicrosoftApp, *, secret: str | None = None, kind: type[M] = MicrosoftTokens
) -> M:
    """Tokens of ``app`` from the lab provider (``secret`` overrides the right one; ``kind``:
    a test's subclass that hands out a stale or refused token first)."""
    return kind(
        tenant_id=app.tenant_id,
        client_id=app.client_id,
        client_secret=app.client_secret if secret is None else secret,
        secret_name="t-m365-client-secret",
        authority=lab.idp.authority,
    )


def google_tokens(lab: Lab, domain: str, **account: object) -> GoogleTokens:
    """Tokens of a new service account delegated over ``domain`` (``scopes=``, ``key_expires=``)."""
    key = lab.idp.add_google_service_account(domain, **account)  # type: ignore[arg-type]
    return GoogleTokens(key_json=key, secret_name="t-google-service-account")


def oauth_source(lab: Lab, email: str, tokens: TokenSource, *, port: int | None = None) -> Endpoint:
    """The lab source as ``email`` with tokens from ``tokens`` (through ``port``, a proxy)."""
    return Endpoint(
        lab.source.host, port or lab.source.imap_port, "none", email, "", token_source=tokens
    )


def google_source(lab: Lab, email: str) -> Endpoint:
    """The lab source logged in the Google Workspace way as ``email``."""
    return oauth_source(lab, email, google_tokens(lab, email.rsplit("@", 1)[1]))


def microsoft_source(lab: Lab, app: MicrosoftApp, email: str) -> Endpoint:
    """The lab source logged in the Microsoft 365 way (app-only token) as ``email``."""
    return oauth_source(lab, email, microsoft_tokens(lab, app))
