"""Start the lab control panel: state folder, API key, database, lab adapter, uvicorn."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import uvicorn

from lab.controlpanel._app import Stats, build_app
from lab.controlpanel._effects import LabEffects, RecordingEffects
from lab.controlpanel._faults import Faults
from lab.controlpanel._service import Service
from lab.controlpanel._store import Store

__all__ = [
    "API_LOGIN",
    "SEED_RESELLER",
    "api_key_path",
    "build",
    "database_path",
    "ensure_api_key",
    "read_api_key",
    "serve",
]

log = logging.getLogger(__name__)

API_LOGIN = "lab-reseller"
SEED_RESELLER = "Lab Reseller"


def _folder(state_dir: Path) -> Path:
    return Path(state_dir) / "controlpanel"


def api_key_path(state_dir: Path) -> Path:
    """Return the file holding the lab's ``login:key`` (mode 0600)."""
    return _folder(state_dir) / "api-key"


def database_path(state_dir: Path) -> Path:
    return _folder(state_dir) / "controlpanel.sqlite3"


def read_api_key(state_dir: Path) -> str | None:
    """Return the lab's ``login:key``, or None if the control panel never started here."""
    try:
        return api_key_path(state_dir).read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def ensure_api_key(state_dir: Path) -> str:
    """Return the lab's ``login:key``, generating and storing it on first use."""
    existing = read_api_key(state_dir)
    if existing:
        return existing
    path = api_key_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = f"{API_LOGIN}:{secrets.token_hex(20)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    return value


def build(
    state_dir: Path, effects: LabEffects | None = None, *, reseller: str = SEED_RESELLER
) -> tuple[object, Service, Faults, Stats]:
    """Return (asgi app, service, faults, stats) for a control panel on ``state_dir``."""
    api_key = ensure_api_key(state_dir)
    store = Store(database_path(state_dir))
    service = Service(store, effects if effects is not None else RecordingEffects())
    service.seed_reseller(reseller)
    service.apply_all()
    faults, stats = Faults(), Stats()
    return build_app(service, api_key, faults, stats), service, faults, stats


def serve(
    state_dir: Path,
    port: int,
    *,
    host: str = "127.0.0.1",
    effects: LabEffects | None = None,
    reseller: str = SEED_RESELLER,
) -> None:
    """Run the control panel in the foreground until SIGTERM/SIGINT."""
    app, _, _, _ = build(state_dir, effects, reseller=reseller)
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    uvicorn.Server(config).run()
