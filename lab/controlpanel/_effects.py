"""What the lab control panel changes outside its database, behind one small protocol.

The server calls these after a committed write: the gateway's per-domain route and hold
(mail_server entries and ``hold_email``), its aliases (localpart_alias: ``sales@acme.test`` →
the account's address) and the destination's logins (email accounts).
:class:`RecordingEffects` keeps the calls in memory for unit tests of the HTTP layer; the
lab adapter (``_lab_effects.py``) applies them to the running lab's Postfix and Dovecot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["AccountLogin", "LabEffects", "RecordingEffects", "lmtp_transport"]


@dataclass(frozen=True)
class AccountLogin:
    """A destination login to create or replace; ``password`` lives only in memory (and
    neither it nor its hash shows in ``repr()``)."""

    email: str
    password: str = field(repr=False)
    password_hash: str = field(repr=False)


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

    @contextmanager
    def _change(self, name: str, arg: str) -> Iterator[None]:
        """Make one change under the lock, then record the call ``(name, arg)``."""
        with self._lock:
            yield
            self.calls.append((name, arg))

    def set_route(self, domain: str, transport: str) -> None:
        with self._change("set_route", domain):
            self.routes[domain] = transport

    def remove_route(self, domain: str) -> None:
        with self._change("remove_route", domain):
            self.routes.pop(domain, None)

    def hold(self, domain: str) -> None:
        with self._change("hold", domain):
            self.held.add(domain)

    def release(self, domain: str) -> None:
        with self._change("release", domain):
            self.held.discard(domain)

    def set_alias(self, alias: str, target: str) -> None:
        with self._change("set_alias", alias):
            self.aliases[alias] = target

    def remove_alias(self, alias: str) -> None:
        with self._change("remove_alias", alias):
            self.aliases.pop(alias, None)

    def set_accounts(self, logins: Sequence[AccountLogin]) -> None:
        with self._lock:
            for login in logins:
                self.accounts[login.email] = login.password_hash
                self.calls.append(("set_account", login.email))

    def remove_account(self, email: str) -> None:
        with self._change("remove_account", email):
            self.accounts.pop(email, None)
