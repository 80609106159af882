"""The identity provider's registry: tenants, apps, service accounts, signing key, lifetime."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NotRequired, TypedDict

__all__ = ["Registry", "load_registry", "registry_path", "save_registry"]


class Registry(TypedDict):
    """The JSON shape of ``<state>/idp/registry.json``.

    ``tenants``: ``{tenant_id: {"domain": d, "apps": {client_id: {"secret": s}}}}``;
    ``service_accounts``: ``{client_email: {"domain": d, "key_id": k, "public_key": pem,
    "scopes": [...], "key_expires": epoch or None}}``.
    """

    signing_key: str  # base64 of the HS256 key (Dovecot's local_validation_key_dict form)
    key_id: str
    lifetime_seconds: int
    tenants: dict[str, Any]
    service_accounts: dict[str, Any]
    # the lab's own app and service account (``lab.idp.demo_*``): their ids and key file
    demo: NotRequired[dict[str, str]]


def registry_path(state_dir: Path) -> Path:
    return state_dir / "idp" / "registry.json"


def load_registry(state_dir: Path) -> Registry:
    """The registry as the lab last wrote it."""
    data: Registry = json.loads(registry_path(state_dir).read_text())
    return data


def save_registry(state_dir: Path, registry: Registry) -> None:
    """Write atomically, owner-only: it holds the client secrets and the signing key."""
    path = registry_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(registry, indent=2) + "\n")
    tmp.chmod(0o600)
    os.replace(tmp, path)
