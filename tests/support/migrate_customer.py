"""A migration customer on the lab: a spec and users.csv in a temp folder (flow tests)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lab import Lab, LabUser
from support.customer_files import SpecFiles, write_customer_files


@dataclass(frozen=True)
class Customer(SpecFiles):
    """A spec + users.csv in a temp folder pointing at the lab (or a proxy in front of it)."""

    users: tuple[LabUser, ...]
    secret_env: str
    master_password: str

    def state_db(self) -> Path:
        return self.customer_dir / "mailsync-state.db"


CustomerFor = Callable[..., Customer]
"""The ``customer_for`` fixture (tests/flows/conftest.py): ``make_customer`` with this test's
folder, lab, user domain and environment bound."""


def make_customer(
    tmp_path: Path,
    lab: Lab,
    users: tuple[LabUser, ...],
    domain: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    source_port: int | None = None,
    wrong_password_for: str | None = None,
    wrong_source_password_for: str | None = None,
    wrong_password: str = "Wrong-pass-999",
    auth_mode: str = "master",
    master: tuple[str, str] | None = None,
    source: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
    **migration: Any,
) -> Customer:
    """``master`` is another (user, password) of the lab source's master users
    (``lab.source.add_master_user``) instead of the lab's own; ``source`` adds to (or
    replaces keys of) ``migration.source``; ``auth`` replaces the whole
    ``migration.source.auth`` block (OAuth modes)."""
    slug = "t-" + secrets.token_hex(4)
    secret = f"{slug}-src-master"
    env = "ONBOARD_SECRET_" + secret.upper().replace("-", "_")
    master_user, master_password = master or (lab.source.master_user, lab.source.master_password)
    monkeypatch.setenv(env, master_password)
    columns = 3 if auth_mode == "user" else 2  # source_password only in user mode
    rows = [["email", "password", "source_password"][:columns]]
    for u in users:
        pw = wrong_password if u.email == wrong_password_for else u.destination_password
        src = "Wrong-src-999" if u.email == wrong_source_password_for else u.source_password
        rows.append([u.email, pw, src][:columns])
    spec = {
        "customer": f"Test {slug}",
        "slug": slug,
        "reseller": "Lab",
        "domains": [{"name": domain, "mail_servers": [{"host": "127.0.0.1"}]}],
        "users_csv": "users.csv",
        "password_policy": {
            "min_length": 4,
            "min_character_classes": 1,
            "forbid_local_part": False,
            "forbid_common": False,
        },
        "migration": {
            "enabled": True,
            "source": {
                "host": "127.0.0.1",
                "port": source_port or lab.ports.source_imap,
                "tls": "none",
                "auth": auth
                if auth is not None
                else {"mode": "user"}
                if auth_mode == "user"
                else {
                    "mode": "master",
                    "master_user": master_user,
                    "password_secret": secret,
                },
            }
            | (source or {}),
            "parallel_mailboxes": 2,
            "connections_per_source_host": 3,
            "task_retries": 2,
            "retry_backoff_seconds": 0.5,
            **migration,
        },
        "hosted": {
            "imap_host": "127.0.0.1",
            "imap_port": lab.ports.destination_imap,
            "imap_tls": "none",
        },
        "output_dir": str(tmp_path / "runs"),
    }
    path = write_customer_files(tmp_path, spec, rows)
    return Customer(path, slug, tmp_path / "runs", users, env, master_password)
