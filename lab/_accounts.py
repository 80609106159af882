"""Lab mail accounts as Dovecot auth records: one small JSON file per user and database.

Dovecot reads them with its ``dict`` passdb/userdb over the ``fs:posix`` dict, which opens
the user's file on every login. That is why an account created, changed or removed by the lab
(or by the lab control panel in another process) takes effect for the very next login: a
passwd-file is re-read at most once per second, which made fast tests flaky.

Layout under the store root (``<email>`` lower-cased)::

    passdb/<email>   {"password": "{PLAIN}secret"}
    master/<name>    {"password": "{PLAIN}secret"}  a master user (source): "<email>*<name>"
    deny/smtp/<email>  present: SMTP AUTH refused for this account (IMAP still works)
    userdb/<email>   {"quota_rule": "*:storage=1000B", "quota_max_mail_size": "500B",
                      "imap_capability": "+APPENDLIMIT=500"}
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Account", "AccountStore", "parse_records", "render_records"]

_FORBIDDEN_IN_EMAIL = ':/\\ \t\r\n"'


@dataclass(frozen=True)
class Account:
    """One mailbox login; limits are None for "no limit"."""

    email: str
    password: str = field(repr=False)
    quota_bytes: int | None = None
    max_message_bytes: int | None = None


def _validate(account: Account) -> None:
    email = account.email
    if not email or "@" not in email or any(c in email for c in _FORBIDDEN_IN_EMAIL):
        raise ValueError(
            f"lab account email {email!r} must be user@domain without '/', ':' or spaces"
        )
    if not account.password or any(c in account.password for c in "\r\n\0"):
        raise ValueError(f"lab account {email}: password must be non-empty, without newlines")
    for name in ("quota_bytes", "max_message_bytes"):
        value = getattr(account, name)
        if value is not None and int(value) <= 0:
            raise ValueError(f"lab account {email}: {name} must be positive or None, got {value}")


def render_records(account: Account) -> tuple[dict[str, str], dict[str, str]]:
    """Return the (passdb, userdb) records Dovecot reads for ``account``."""
    _validate(account)
    passdb = {"password": "{PLAIN}" + account.password}
    userdb: dict[str, str] = {}
    if account.quota_bytes is not None:
        userdb["quota_rule"] = f"*:storage={int(account.quota_bytes)}B"
    if account.max_message_bytes is not None:
        size = int(account.max_message_bytes)
        userdb["quota_max_mail_size"] = f"{size}B"
        # Dovecot 2.3 has no built-in APPENDLIMIT (RFC 7889); advertise it per user.
        userdb["imap_capability"] = f"+APPENDLIMIT={size}"
    return passdb, userdb


def parse_records(email: str, passdb: dict[str, Any], userdb: dict[str, Any]) -> Account:
    """Inverse of :func:`render_records`."""
    quota = userdb.get("quota_rule")
    size = userdb.get("quota_max_mail_size")
    return Account(
        email=email,
        password=str(passdb["password"]).removeprefix("{PLAIN}"),
        quota_bytes=int(str(quota).rsplit("=", 1)[1].rstrip("B")) if quota else None,
        max_message_bytes=int(str(size).rstrip("B")) if size else None,
    )


def _write_json(path: Path, data: dict[str, str]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)  # atomic: Dovecot sees the old or the new record, never half


class AccountStore:
    """The account records of one lab Dovecot; safe to use from several processes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure_exists(self) -> None:
        for sub in ("passdb", "userdb", "master", "deny", "deny/smtp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
            (self.root / sub).chmod(0o755)

    def deny(self, email: str, service: str, denied: bool = True) -> None:
        """Refuse (or stop refusing) ``email``'s logins to ``service`` (``smtp``, ``imap``)."""
        folder = self.root / "deny" / service
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        if denied:
            _write_json(folder / email.lower(), {"nopassword": "y"})
        else:
            (folder / email.lower()).unlink(missing_ok=True)

    def put(self, account: Account) -> None:
        """Create or replace ``account``; the next login uses it."""
        passdb, userdb = render_records(account)
        self.ensure_exists()
        key = account.email.lower()
        # userdb first: a login that sees the new password also sees the new limits.
        _write_json(self.root / "userdb" / key, userdb)
        _write_json(self.root / "passdb" / key, passdb)

    def put_master(self, name: str, password: str) -> None:
        """Create or replace the master user ``name``; the next ``<email>*<name>`` login uses it."""
        if not name or any(c in name for c in _FORBIDDEN_IN_EMAIL + "@*"):
            raise ValueError(f"lab master user {name!r} must be a plain name")
        if not password or any(c in password for c in "\r\n\0"):
            raise ValueError(f"lab master user {name}: password must be non-empty, no newlines")
        self.ensure_exists()
        _write_json(self.root / "master" / name, {"password": "{PLAIN}" + password})

    def master_password(self, name: str) -> str | None:
        """The password of master user ``name``, or None when there is none."""
        try:
            record = json.loads((self.root / "master" / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return str(record["password"]).removeprefix("{PLAIN}")

    def remove(self, email: str) -> bool:
        """Remove the account; return whether it existed."""
        key = email.lower()
        existed = False
        for service in ("smtp",):
            (self.root / "deny" / service / key).unlink(missing_ok=True)
        for sub in ("passdb", "userdb"):
            try:
                (self.root / sub / key).unlink()
                existed = True
            except FileNotFoundError:
                pass
        return existed

    def get(self, email: str) -> Account | None:
        key = email.lower()
        try:
            passdb = json.loads((self.root / "passdb" / key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        try:
            userdb = json.loads((self.root / "userdb" / key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            userdb = {}
        return parse_records(key, passdb, userdb)

    def accounts(self) -> dict[str, Account]:
        """Every account by lower-cased email, sorted."""
        try:
            names = sorted(p.name for p in (self.root / "passdb").iterdir())
        except FileNotFoundError:
            return {}
        found: dict[str, Account] = {}
        for name in names:
            if name.startswith("."):
                continue
            account = self.get(name)
            if account is not None:
                found[name] = account
        return found
