"""What the lab control panel changes outside its database, behind one small protocol.

The server calls these after a committed write: the gateway's per-domain route and hold
(mail_server entries and ``hold_email``), its aliases (localpart_alias: ``sales@acme.test`` →
the account's address) and the destination's logins (email accounts).
:class:`RecordingEffects` keeps the calls in memory for unit tests of the HTTP layer; the
lab adapter (``_lab_effects.py``) applies them to the running lab's Postfix and Dovecot.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import NamedTuple, Protocol

__all__ = ["AccountLogin", "LabEffects", "RecordingEffects", "lmtp_transport"]


class AccountLogin(NamedTuple):
    """A destination login to create or replace; ``password`` lives only in memory."""

    email: str
    password: str
    password_hash: str


def lmtp_transport(server: str, port: int) -> str:
    """Return the Postfix transport for delivering a domain to ``server:port`` over LMTP."""
    return f"lmtp:inet:{server}:{port}"


class LabEffects(Protocol):
    """The changes the control panel asks the lab to make."""

    def set_route(self, domain: str, transport: str) -> None: ...

    def remove_route(self, domain: str) -> None: ...

    def hold(self, domain: str) -> None: ...

    def release(self, domain: str) -> None: ...

    def set_alias(self, alias: str, target: str) -> None: ...

    def remove_alias(self, alias: str) -> None: ...

    def set_accounts(self, logins: Sequence[AccountLogin]) -> None: ...

    def remove_account(self, email: str) -> None: ...


class RecordingEffects:
    """Keeps the requested changes in memory (unit tests; a control panel without a lab)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.routes: dict[str, str] = {}
        self.held: set[str] = set()
        self.aliases: dict[str, str] = {}  # alias address -> account address
        self.accounts: dict[str, str] = {}  # email -> password hash
        self.calls: list[tuple[str, str]] = []

    def _note(self, name: str, arg: str) -> None:
        self.calls.append((name, arg))

    def set_route(self, domain: str, transport: str) -> None:
        with self._lock:
            self.routes[domain] = transport
            self._note("set_route", domain)

    def remove_route(self, domain: str) -> None:
        with self._lock:
            self.routes.pop(domain, None)
            self._note("remove_route", domain)

    def hold(self, domain: str) -> None:
        with self._lock:
            self.held.add(domain)
            self._note("hold", domain)

    def release(self, domain: str) -> None:
        with self._lock:
            self.held.discard(domain)
            self._note("release", domain)

    def set_alias(self, alias: str, target: str) -> None:
        with self._lock:
            self.aliases[alias] = target
            self._note("set_alias", alias)

    def remove_alias(self, alias: str) -> None:
        with self._lock:
            self.aliases.pop(alias, None)
            self._note("remove_alias", alias)

    def set_accounts(self, logins: Sequence[AccountLogin]) -> None:
        with self._lock:
            for login in logins:
                self.accounts[login.email] = login.password_hash
                self._note("set_account", login.email)

    def remove_account(self, email: str) -> None:
        with self._lock:
            self.accounts.pop(email, None)
            self._note("remove_account", email)
