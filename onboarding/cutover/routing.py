"""The cutover's control-panel steps for one domain: hold, switch routing, release.

Each step looks before it writes, so a re-run after any failure does only what is missing: a
held domain is not held again, a domain already routed to the hosted mailboxes is not
touched. Each write is confirmed by re-reading the domain (contract §6.10). The hold is the
domain's ``hold_email`` (contract §3.3: mail is accepted and queued, not delivered); the
routing is the domain's ``mail_server`` entries plus its ``deliveryport`` (contract §2.4).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from onboarding.controlpanel import (
    ControlPanelClient,
    ControlPanelError,
    Domain,
    MailServer,
    NewMailServer,
    routed_only_to,
)
from onboarding.cutover._exceptions import CutoverError, DomainMissing, HoldNotConfirmed
from onboarding.reports import report_row

__all__ = [
    "DeliveryTarget",
    "DomainPhase",
    "DomainState",
    "StepResult",
    "hold_delivery",
    "read_domain_state",
    "release_delivery",
    "switch_routing",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryTarget:
    """Where a cut-over domain's mail goes: the hosted mailboxes' LMTP/SMTP entry."""

    host: str
    port: int
    priority: int = 10


class DomainPhase(StrEnum):
    """Where one domain stands in the cutover, read from the control panel."""

    PENDING = "pending"  # not held, still routed to the customer's old servers
    HELD = "held"  # delivery on hold: a cutover is under way (or crashed midway)
    DONE = "done"  # routed to the hosted mailboxes and not held


@dataclass(frozen=True)
class DomainState:
    """A domain's hold and routing as the control panel has them."""

    domain: str
    domain_id: int
    held: bool
    servers: tuple[tuple[str, int], ...]  # (server, priority)
    deliveryport: int
    routed_to_hosted: bool

    @property
    def phase(self) -> DomainPhase:
        if self.held:
            return DomainPhase.HELD
        return DomainPhase.DONE if self.routed_to_hosted else DomainPhase.PENDING

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "phase": str(self.phase),
            "held": self.held,
            "routing": [f"{s}:{self.deliveryport} ({p})" for s, p in self.servers],
        }


@report_row
@dataclass(frozen=True)
class StepResult:
    """One step on one domain: ``changed`` False when it was already so (no write)."""

    domain: str
    step: str
    changed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _find(cp: ControlPanelClient, name: str) -> Domain:
    domain = cp.domains.find(name=name)
    if domain is None:
        raise DomainMissing(
            f"domain {name} is not in the control panel; run `onboard provision` first",
            domain=name,
        )
    return domain


def _state(
    cp: ControlPanelClient, domain: Domain, target: DeliveryTarget
) -> tuple[DomainState, list[MailServer]]:
    servers = cp.mail_servers.all(domain=domain.id)
    routed = routed_only_to(domain, servers, target.host, target.port)
    state = DomainState(
        domain.name,
        domain.id,
        domain.hold_email,
        tuple((s.server, s.priority) for s in sorted(servers, key=lambda s: (s.priority, s.id))),
        domain.deliveryport,
        routed,
    )
    return state, servers


def read_domain_state(cp: ControlPanelClient, name: str, target: DeliveryTarget) -> DomainState:
    """Return ``name``'s hold and routing; raise :class:`DomainMissing` if it is absent."""
    return _state(cp, _find(cp, name), target)[0]


def _set_hold(cp: ControlPanelClient, name: str, hold: bool) -> StepResult:
    step = "hold" if hold else "release"
    domain = _find(cp, name)
    if domain.hold_email is hold:
        return StepResult(name, step, False, "already on hold" if hold else "not on hold")
    cp.set_hold(domain.id, hold)
    if cp.domains.get(domain.id).hold_email is not hold:
        raise HoldNotConfirmed(
            f"{name}: the control panel accepted hold_email={str(hold).lower()} but reads back "
            "the old value; check the domain's Delivery Status in the control panel and re-run",
            domain=name,
        )
    log.info("%s: delivery %s", name, "held" if hold else "released")
    return StepResult(name, step, True, "delivery held" if hold else "delivery released")


def hold_delivery(cp: ControlPanelClient, name: str) -> StepResult:
    """Hold delivery for ``name`` unless it is held; confirm by re-reading."""
    return _set_hold(cp, name, True)


def release_delivery(cp: ControlPanelClient, name: str) -> StepResult:
    """Release the hold on ``name`` unless it is released; confirm by re-reading."""
    return _set_hold(cp, name, False)


def switch_routing(cp: ControlPanelClient, name: str, target: DeliveryTarget) -> StepResult:
    """Route ``name`` to ``target`` only: add its mail_server, set the port, drop the others.

    The new entry is added before the old ones go, so the domain always has a route.
    """
    domain = _find(cp, name)
    state, servers = _state(cp, domain, target)
    label = f"{target.host}:{target.port}"
    if state.routed_to_hosted:
        return StepResult(name, "switch-routing", False, f"already routed to {label}")
    if not any(s.server == target.host for s in servers):
        new = NewMailServer(
            domain=domain.resource_uri, server=target.host, priority=target.priority
        )
        try:
            cp.mail_servers.create(new)
        except ControlPanelError:
            # A lost answer may hide a create that happened (contract §6.1): look it up.
            if not any(s.server == target.host for s in cp.mail_servers.list(domain=domain.id)):
                raise
    if domain.deliveryport != target.port:
        cp.domains.update(domain.id, {"deliveryport": target.port})
    old = [s for s in servers if s.server != target.host]
    for server in old:
        cp.mail_servers.delete(server.id)
    after, _ = _state(cp, cp.domains.get(domain.id), target)
    if not after.routed_to_hosted:
        raise CutoverError(
            f"{name}: routing still reads {after.to_dict()['routing']} after switching to "
            f"{label}; fix the domain's Delivery & MailServers tab and re-run",
            domain=name,
        )
    removed = ", ".join(f"{s.server}:{state.deliveryport}" for s in old) or "nothing"
    return StepResult(name, "switch-routing", True, f"routed to {label} (removed {removed})")
