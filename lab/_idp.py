"""The lab identity provider's host (``python -m lab.idp``) and its registry of apps and keys.

Tests and the demo register what a customer's admin would create: a Microsoft 365 app
registration (tenant id, client id, client secret) or a Google service account with
domain-wide delegation (its JSON key). The provider's signing key is also written where the
source Dovecot looks for JWT validation keys, so the tokens it issues log in there.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lab._spawned import SpawnedServer
from lab.idp import Registry, load_registry, save_registry
from lab.idp._registry import registry_path

__all__ = [
    "DEMO_DOMAIN",
    "GOOGLE_MAIL_SCOPE",
    "GOOGLE_SECRET_ENV",
    "M365_SECRET_ENV",
    "IdentityProvider",
    "MicrosoftApp",
]

GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
KEY_ID = "lab-1"
# The example customer's OAuth apps: stand-ins for its Secret blocks acme-m365-client-secret
# and acme-google-service-account (``Lab.secret_env``).
DEMO_DOMAIN = "acme.test"
M365_SECRET_ENV = "ONBOARD_SECRET_ACME_M365_CLIENT_SECRET"
GOOGLE_SECRET_ENV = "ONBOARD_SECRET_ACME_GOOGLE_SERVICE_ACCOUNT"


@dataclass(frozen=True)
class MicrosoftApp:
    """An app registration with ``IMAP.AccessAsApp`` in a tenant that owns ``domain``."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    domain: str


class IdentityProvider(SpawnedServer):
    """The token service on ``port`` (``http://127.0.0.1:<port>``), registry in ``<state>/idp``."""

    name = "idp"
    module = "lab.idp"
    _lock = threading.Lock()

    @property
    def authority(self) -> str:
        """The Microsoft authority host (token URL ``<authority>/<tenant>/oauth2/v2.0/token``)."""
        return self.base_url

    @property
    def google_token_uri(self) -> str:
        return f"{self.base_url}/token"

    def prepare(self, key_dir: Path) -> None:
        """Create the registry once and publish its signing key to ``key_dir`` (Dovecot's
        ``local_validation_key_dict``, keys at ``<azp>/<ALG>/<kid>``; ``azp`` is ``default``)."""
        with self._lock:
            if not registry_path(self.state_dir).exists():
                save_registry(
                    self.state_dir,
                    Registry(
                        signing_key=base64.b64encode(secrets.token_bytes(32)).decode(),
                        key_id=KEY_ID,
                        lifetime_seconds=3600,
                        tenants={},
                        service_accounts={},
                    ),
                )
            registry = load_registry(self.state_dir)
        path = key_dir / "default" / "HS256" / registry["key_id"]
        path.parent.mkdir(parents=True, exist_ok=True)
        for d in (key_dir, key_dir / "default", path.parent):
            d.chmod(0o755)
        if not path.exists() or path.read_text() != registry["signing_key"]:
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(registry["signing_key"])
            tmp.chmod(0o644)  # read by Dovecot's unprivileged auth process
            os.replace(tmp, path)  # a login validating a token meanwhile never reads half a key
        if "demo" not in registry:
            app = self.add_microsoft_app(DEMO_DOMAIN)
            key = self.add_google_service_account(DEMO_DOMAIN)
            with self._edit() as reg:
                reg["demo"] = {
                    "tenant_id": app.tenant_id,
                    "client_id": app.client_id,
                    "client_secret": app.client_secret,
                    "service_account_key": key,
                }

    def demo(self) -> dict[str, str]:
        """The lab's own Microsoft app (``tenant_id``, ``client_id``, ``client_secret``) and
        Google key (``service_account_key``) for the example customer's domain; {} before
        the first ``lab up``."""
        try:
            return dict(load_registry(self.state_dir).get("demo", {}))
        except FileNotFoundError:
            return {}

    def secret_env(self) -> dict[str, str]:
        """The ``ONBOARD_SECRET_*`` stand-ins for the demo app's Secret blocks."""
        demo = self.demo()
        if not demo:
            return {}
        return {
            M365_SECRET_ENV: demo["client_secret"],
            GOOGLE_SECRET_ENV: demo["service_account_key"],
        }

    def _edit(self) -> _Edit:
        return _Edit(self)

    def set_lifetime(self, seconds: int) -> None:
        """Tokens issued from now on last ``seconds`` (tests: ~30 s, so they expire mid-sync)."""
        with self._edit() as reg:
            reg["lifetime_seconds"] = int(seconds)

    def add_microsoft_app(self, domain: str, *, certificate: bool = False) -> MicrosoftApp:
        """A new tenant owning ``domain`` with one app (``IMAP.AccessAsApp``) and its secret;
        with ``certificate`` the credential is a certificate and ``client_secret`` is the
        PEM of its private key and certificate (what goes in the Secret block)."""
        secret = secrets.token_urlsafe(30)
        record: dict[str, object] = {"secret": secret}
        if certificate:
            secret, record["certificate"] = _certificate(domain)
            record["secret"] = secrets.token_urlsafe(30)  # a secret exists, not handed out
        app = MicrosoftApp(str(uuid.uuid4()), str(uuid.uuid4()), secret, domain.lower())
        with self._edit() as reg:
            reg["tenants"][app.tenant_id] = {
                "domain": app.domain,
                "apps": {app.client_id: record},
            }
        return app

    def add_google_service_account(
        self,
        domain: str,
        *,
        scopes: Sequence[str] = (GOOGLE_MAIL_SCOPE,),
        key_expires: float | None = None,
    ) -> str:
        """A service account delegated ``scopes`` over ``domain``; returns its JSON key file
        text (Google's format, ``token_uri`` = this provider). ``key_expires`` (epoch) makes
        the key expire, as keys with an expiry policy do."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        key_id = secrets.token_hex(20)
        client_id = str(secrets.randbelow(10**20))
        email = f"migrate-{secrets.token_hex(3)}@lab-project.iam.gserviceaccount.com"
        with self._edit() as reg:
            reg["service_accounts"][email] = {
                "domain": domain.lower(),
                "client_id": client_id,
                "key_id": key_id,
                "public_key": public,
                "scopes": list(scopes),
                "key_expires": key_expires,
            }
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "lab-project",
                "private_key_id": key_id,
                "private_key": pem,
                "client_email": email,
                "client_id": client_id,
                "token_uri": self.google_token_uri,
            }
        )


def _certificate(domain: str) -> tuple[str, dict[str, str]]:
    """A self-signed certificate: (key + certificate PEM, its registry record)."""
    import datetime
    import hashlib

    from lab._certs import self_signed

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(
        key,
        f"migration app {domain}",
        backdate=datetime.timedelta(days=1),
        lifetime=datetime.timedelta(days=365),
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode(), {"x5t": x5t, "public_key": public.decode()}


class _Edit:
    """``with provider._edit() as registry:`` load, change, save under the class lock."""

    def __init__(self, provider: IdentityProvider) -> None:
        self.provider = provider
        self.registry: Registry | None = None

    def __enter__(self) -> Registry:
        IdentityProvider._lock.acquire()
        self.registry = load_registry(self.provider.state_dir)
        return self.registry

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None and self.registry is not None:
                save_registry(self.provider.state_dir, self.registry)
        finally:
            IdentityProvider._lock.release()
