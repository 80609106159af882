"""OAuth2 source logins on the lab: a Microsoft 365 app or a Google service account per domain.

For engine tests and other helpers' migrations (the Gmail-like source logs in the Google way)::

    endpoint = google_source(lab, user.email)          # AUTHENTICATE XOAUTH2, token per user
    endpoint = microsoft_source(lab, app, user.email)  # app = lab.idp.add_microsoft_app(domain)
"""

from __future__ import annotations

from lab import Lab
from lab._idp import MicrosoftApp
from onboarding.mailsync import Endpoint
from onboarding.mailsync.oauth import GoogleTokens, MicrosoftTokens, TokenSource

__all__ = ["google_source", "google_tokens", "microsoft_source", "microsoft_tokens", "oauth_source"]


def microsoft_tokens(lab: Lab, app: MicrosoftApp, *, secret: str | None = None) -> MicrosoftTokens:
    """Tokens of ``app`` from the lab provider (``secret`` overrides the right one)."""
    return MicrosoftTokens(
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
