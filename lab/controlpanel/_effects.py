"""What the lab control panel changes outside its database, behind one small protocol.

The server calls these after a committed write: the gateway's per-domain route and hold
(mail_server entries and ``hold_email``) and the destination's logins (email accounts).
:class:`RecordingEffects` keeps the calls in memory for unit tests of the HTTP layer; the
lab adapter (``_lab_effects.py``) applies them to the running lab's Postfix and Dovecot.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["LabEffects", "RecordingEffects", "lmtp_transport"]


def lmtp_transport(server: str, port: int) -> str:
    """Return the Postfix transport for delivering a domain to ``server:port`` over LMTP."""
    return f"lmtp:inet:{server}:{port}"


class LabEffects(Protocol):
    """The changes the control panel asks the lab to make."""

    def set_route(self, domain: str, transport: str) -> None: ...

    def remove_route(self, domain: str) -> None: ...

    def hold(self, domain: str) -> None: ...

    def release(self, domain: str) -> None: ...

    def set_account(self, email: str, password: str, password_hash: str) -> None: ...

    def remove_account(self, email: str) -> None: ...


class RecordingEffects:
    """Keeps the requested changes in memory (unit tests; a control panel without a lab)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.routes: dict[str, str] = {}
        self.held: set[str] = set()
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

    def set_account(self, email: str, password: str, password_hash: str) -> None:
        with self._lock:
            self.accounts[email] = password_hash
            self._note("set_account", email)

    def remove_account(self, email: str) -> None:
        with self._lock:
            self.accounts.pop(email, None)
            self._note("remove_account", email)
