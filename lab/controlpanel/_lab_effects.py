"""Apply control-panel changes to the running lab through the Lab Python API.

Routes, holds and aliases go to the gateway (``lab.gateway.set_route/remove_route/hold/
release/set_alias/remove_alias``),
logins to the destination Dovecot (``lab.destination.set_account/remove_account``). The
``Lab`` object reads the ports the lab recorded in its state folder, so this process drives
the same servers as the CLI and the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lab.controlpanel._effects import AccountLogin, LabEffects

__all__ = ["LabApiEffects", "lab_effects"]

log = logging.getLogger(__name__)


class LabApiEffects:
    """:class:`LabEffects` backed by a ``lab.Lab``."""

    def __init__(self, lab: Any) -> None:
        self._lab = lab
        self._warned = False

    def _gateway(self) -> Any:
        gateway = getattr(self._lab, "gateway", None)
        if gateway is None and not self._warned:
            self._warned = True
            log.warning("this lab has no gateway; routes, holds and aliases are not applied")
        return gateway

    def _on_gateway(self, change: Callable[[Any], None]) -> None:
        """Apply ``change`` to the lab's gateway, if this lab has one."""
        gateway = self._gateway()
        if gateway is not None:
            change(gateway)

    def set_route(self, domain: str, transport: str) -> None:
        self._on_gateway(lambda gateway: gateway.set_route(domain, transport))

    def remove_route(self, domain: str) -> None:
        self._on_gateway(lambda gateway: gateway.remove_route(domain))

    def hold(self, domain: str) -> None:
        self._on_gateway(lambda gateway: gateway.hold(domain))

    def release(self, domain: str) -> None:
        self._on_gateway(lambda gateway: gateway.release(domain))

    def set_alias(self, alias: str, target: str) -> None:
        self._on_gateway(lambda gateway: gateway.set_alias(alias, target))

    def remove_alias(self, alias: str) -> None:
        self._on_gateway(lambda gateway: gateway.remove_alias(alias))

    def set_accounts(self, logins: Sequence[AccountLogin]) -> None:
        for login in logins:
            self._lab.destination.set_account(login.email, login.password)

    def remove_account(self, email: str) -> None:
        self._lab.destination.remove_account(email)


def lab_effects(state_dir: Path) -> LabEffects:
    """Return effects bound to the lab whose state folder is ``state_dir``."""
    from lab import Lab

    return LabApiEffects(Lab(state_dir))
