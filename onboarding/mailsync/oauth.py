"""OAuth2 access tokens for the source login: Microsoft 365, Google Workspace, any token URL.

Microsoft 365 (app-only): the client-credentials grant of the Microsoft identity platform,
``POST <authority>/<tenant>/oauth2/v2.0/token`` with ``client_id``, ``client_secret``,
``scope=https://outlook.office365.com/.default``; one token serves every mailbox of the tenant.
A Secret block holding PEM text (the private key and the certificate) is a certificate
credential instead: an RS256 ``client_assertion`` with the certificate's ``x5t`` thumbprint.
``msal`` is not used: its authority must be ``https://`` with a known host (``canonicalize``
raises for any other URL, also with ``validate_authority=False`` / ``instance_discovery=False``),
so it cannot talk to a local provider; the grant is sent with httpx exactly as documented.

Google Workspace: a service account with domain-wide delegation; ``google-auth``
(:meth:`google.oauth2.service_account.Credentials.with_subject`) signs the RFC 7523 JWT-bearer
assertion with the key and posts it to the key file's ``token_uri``; one token per user.

Other providers: the client-credentials grant at a configured token URL (RFC 6749 §4.4),
sent as OAUTHBEARER (RFC 7628).

Tokens are cached (per user where they are per user) and replaced once 80 % of their lifetime
has passed. A refused grant is one :class:`AuthFailed` sentence naming the Secret block and the
fix; no token, secret or key ever appears in it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from onboarding.mailsync._exceptions import AuthFailed, ConnectFailed
from onboarding.redact import redact

__all__ = [
    "GOOGLE_SCOPE",
    "MICROSOFT_AUTHORITY",
    "MICROSOFT_SCOPE",
    "AccessToken",
    "ClientCredentialsTokens",
    "GoogleTokens",
    "Mechanism",
    "MicrosoftTokens",
    "TokenSource",
    "pem_lines",
    "sasl_oauthbearer",
    "sasl_xoauth2",
]

Mechanism = Literal["xoauth2", "oauthbearer"]
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GOOGLE_SCOPE = "https://mail.google.com/"
REFRESH_AT = 0.8  # share of a token's lifetime after which a new one is fetched
_TIMEOUT = 30.0

# Microsoft identity platform error codes -> (what happened, fix); see AADSTS error codes.
_AADSTS: dict[int, tuple[str, str]] = {
    7000215: (
        "the client secret is wrong",
        "put the secret's value (not its ID) from the app registration into Secret block {block}",
    ),
    7000222: (
        "the client secret has expired",
        "create a new client secret and store it in {block}",
    ),
    700016: (
        "the tenant has no application with this client_id",
        "check migration.source.auth.client_id and tenant_id (the app must be registered in "
        "the customer's tenant)",
    ),
    90002: ("the tenant was not found", "check migration.source.auth.tenant_id"),
    700027: (
        "the certificate credential is not valid (its signature or thumbprint)",
        "upload this certificate to the app registration, or store the matching key and "
        "certificate in {block}",
    ),
    900023: ("the tenant id is not valid", "check migration.source.auth.tenant_id"),
}


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and its lifetime (epoch seconds); the value is never printed."""

    value: str = field(repr=False)
    obtained_at: float
    expires_at: float

    def usable(self, now: float) -> bool:
        """True until :data:`REFRESH_AT` of the lifetime has passed."""
        return now < self.obtained_at + REFRESH_AT * (self.expires_at - self.obtained_at)


def sasl_xoauth2(user: str, token: str) -> bytes:
    """Google's / Microsoft's XOAUTH2 initial response (before base64)::

    >>> sasl_xoauth2("ann@acme.example", "tok")
    b'user=ann@acme.example\\x01auth=Bearer tok\\x01\\x01'
    """
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def sasl_oauthbearer(user: str, token: str, host: str, port: int) -> bytes:
    """The RFC 7628 §3.1 client response: GS2 header with ``a=user``, then key/value pairs."""
    return f"n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()


def pem_lines(text: str) -> tuple[str, ...]:
    """The base64 lines of the PEM blocks in ``text`` (each is secret key material)."""
    return tuple(
        line for line in text.splitlines() if line.strip() and not line.startswith("-----")
    )


class TokenSource:
    """Tokens for the source login, cached and refreshed; subclasses fetch them.

    ``secret_name`` is the Prefect Secret block the credentials came from (named in errors).
    Thread-safe: one source serves all mailboxes of a run.
    """

    mechanism: Mechanism = "xoauth2"
    provider = "the identity provider"

    def __init__(self, *, secret_name: str, clock: Callable[[], float] = time.time) -> None:
        self.secret_name = secret_name
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, AccessToken] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secret_name={self.secret_name!r})"

    def cache_key(self, user: str) -> str:
        """Where ``user``'s token is cached: app-only tokens share one entry."""
        return ""

    def token(self, user: str) -> AccessToken:
        """A token for ``user`` that has at least 20 % of its lifetime left."""
        key = self.cache_key(user)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.usable(self.clock()):
                return cached
            fresh = self.fetch(user)
            self._cache[key] = fresh
            return fresh

    def invalidate(self, user: str, token: AccessToken) -> None:
        """Forget ``token`` (the server refused it), so the next login fetches a new one."""
        key = self.cache_key(user)
        with self._lock:
            if self._cache.get(key) is token:
                del self._cache[key]

    def fetch(self, user: str) -> AccessToken:
        raise NotImplementedError

    def secrets(self) -> tuple[str, ...]:
        """Values to mask in anything this source's errors quote."""
        return tuple(t.value for t in self._cache.values())

    def refused(self, what: str, fix: str) -> AuthFailed:
        """The one sentence for a refused grant, naming the Secret block and the fix."""
        return AuthFailed(
            f"{self.provider} refused the credentials in Secret block {self.secret_name!r}: {what}",
            side="source",
            fix=fix.format(block=repr(self.secret_name)),
        )

    def post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        """POST the grant ``form``; the JSON answer (success or OAuth error)."""
        try:
            resp = httpx.post(url, data=form, timeout=_TIMEOUT)
        except httpx.HTTPError as exc:
            raise ConnectFailed(
                f"cannot reach the token endpoint {url}: {type(exc).__name__}", side="source"
            ) from None
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self.refused(
                f"the token endpoint {url} answered HTTP {resp.status_code} without JSON",
                "check the token endpoint URL",
            )
        return data

    def accepted(self, data: dict[str, Any]) -> AccessToken:
        """The token of a successful answer (``access_token``, ``expires_in``)."""
        now = self.clock()
        return AccessToken(
            str(data["access_token"]), now, now + float(data.get("expires_in", 3600))
        )


class ClientCredentialsTokens(TokenSource):
    """Client-credentials tokens from any OAuth2 token URL, sent as OAUTHBEARER (RFC 7628)."""

    mechanism: Mechanism = "oauthbearer"

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        secret_name: str,
        scope: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(secret_name=secret_name, clock=clock)
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope

    def secrets(self) -> tuple[str, ...]:
        return (*super().secrets(), self._client_secret, *pem_lines(self._client_secret))

    def fetch(self, user: str) -> AccessToken:
        form = {
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "grant_type": "client_credentials",
        }
        if self.scope:
            form["scope"] = self.scope
        data = self.post(self.token_url, form)
        if "access_token" in data:
            return self.accepted(data)
        raise self.refusal(data)

    def refusal(self, data: dict[str, Any]) -> AuthFailed:
        """The sentence for an OAuth error answer (RFC 6749 §5.2)."""
        return self.refused(
            f"{data.get('error', 'error')} at {self.token_url}",
            "check client_id and the client secret in {block}",
        )


class MicrosoftTokens(ClientCredentialsTokens):
    """App-only tokens of a Microsoft 365 tenant (client credentials with a client secret)."""

    mechanism: Mechanism = "xoauth2"
    provider = "Microsoft 365"

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        secret_name: str,
        authority: str = MICROSOFT_AUTHORITY,
        scope: str = MICROSOFT_SCOPE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            token_url=f"{authority.rstrip('/')}/{tenant_id}/oauth2/v2.0/token",
            client_id=client_id,
            client_secret=client_secret,
            secret_name=secret_name,
            scope=scope,
            clock=clock,
        )
        self.tenant_id = tenant_id

    def fetch(self, user: str) -> AccessToken:
        if "-----BEGIN" not in self._client_secret:
            return super().fetch(user)
        data = self.post(
            self.token_url,
            {
                "client_id": self.client_id,
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": self._assertion(),
                "scope": self.scope or MICROSOFT_SCOPE,
                "grant_type": "client_credentials",
            },
        )
        if "access_token" in data:
            return self.accepted(data)
        raise self.refusal(data)

    def _assertion(self) -> str:
        """The certificate credential's JWT (Microsoft identity platform, RS256, ``x5t``)."""
        import hashlib
        import uuid

        import jwt
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        pem = self._client_secret.encode()
        try:
            cert = x509.load_pem_x509_certificate(pem)
            key = serialization.load_pem_private_key(pem, password=None)
        except ValueError:
            raise self.refused(
                "it holds PEM text but not both a private key and a certificate",
                "store the private key and the certificate (PEM, unencrypted) in {block}",
            ) from None
        der = cert.public_bytes(serialization.Encoding.DER)
        x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
        now = int(self.clock())
        claims = {
            "aud": self.token_url,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"x5t": x5t})  # type: ignore[arg-type]

    def refusal(self, data: dict[str, Any]) -> AuthFailed:
        """The sentence for an ``AADSTS`` error, from :data:`_AADSTS`."""
        codes = data.get("error_codes") or [0]
        what, fix = _AADSTS.get(
            int(codes[0]),
            (
                f"{data.get('error', 'error')} (AADSTS{codes[0]})",
                "check tenant_id, client_id and the client secret in {block}",
            ),
        )
        return self.refused(f"{what} (AADSTS{codes[0]}, tenant {self.tenant_id})", fix)


class GoogleTokens(TokenSource):
    """Per-user tokens of a Google Workspace service account (domain-wide delegation)."""

    provider = "Google"

    def __init__(
        self,
        *,
        key_json: str,
        secret_name: str,
        scope: str = GOOGLE_SCOPE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(secret_name=secret_name, clock=clock)
        self._key_json = key_json
        self.scope = scope

    def cache_key(self, user: str) -> str:
        return user.lower()

    def secrets(self) -> tuple[str, ...]:
        try:
            private = str(json.loads(self._key_json).get("private_key", ""))
        except ValueError:
            private = ""
        return (*super().secrets(), self._key_json, *pem_lines(private))

    def _credentials(self, user: str) -> Any:
        from google.oauth2 import service_account

        try:
            info = json.loads(self._key_json)
            creds = service_account.Credentials.from_service_account_info(info, scopes=[self.scope])
        except (ValueError, KeyError, TypeError):
            raise self.refused(
                "it is not a service account JSON key",
                "store the whole JSON key file of the service account in {block}",
            ) from None
        return creds.with_subject(user), str(info.get("client_id", "?"))

    def fetch(self, user: str) -> AccessToken:
        import google.auth.exceptions
        import google.auth.transport.requests

        creds, client_id = self._credentials(user)
        now = self.clock()
        try:
            creds.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.TransportError as exc:
            raise ConnectFailed(
                f"cannot reach Google's token endpoint: {type(exc).__name__}", side="source"
            ) from None
        except google.auth.exceptions.RefreshError as exc:
            raise self._refusal(exc, client_id) from None
        expires = creds.expiry.timestamp() if creds.expiry else now + 3600
        # google-auth stores expiry as naive UTC; timestamp() would read it as local time
        if creds.expiry is not None and creds.expiry.tzinfo is None:
            import calendar

            expires = calendar.timegm(creds.expiry.timetuple())
        return AccessToken(str(creds.token), now, float(expires))

    def _refusal(self, exc: Exception, client_id: str) -> AuthFailed:
        data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        error = str(data.get("error", ""))
        text = redact(str(data.get("error_description", "")), *self.secrets())
        if error == "unauthorized_client":
            return self.refused(
                f"domain-wide delegation does not grant the scope {self.scope} "
                f"(unauthorized_client)",
                f"in the Admin console (Security > API controls > Domain-wide delegation) "
                f"give client ID {client_id} the scope {self.scope}",
            )
        if "Signature" in text:
            return self.refused(
                "the key is expired, deleted or disabled (invalid_grant: Invalid JWT Signature)",
                "create a new JSON key for the service account and store it in {block}",
            )
        return self.refused(
            f"{error or 'error'}: {text}".rstrip(": "),
            "check the service account key in {block} and its domain-wide delegation",
        )
