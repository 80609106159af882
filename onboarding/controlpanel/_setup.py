"""Runbook phase 1 in the control panel: the customer, its domains, their initial routing.

Idempotent by looking before writing: an object that exists as the spec wants it is
"already existed" (no write); one that exists with other settings is a conflict that names
what to do and is never overwritten. A create whose answer is lost or refused is resolved by
looking the object up by its natural key (contract §6.1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from onboarding.controlpanel._client import ControlPanelClient
from onboarding.controlpanel._exceptions import (
    AuthenticationFailed,
    ControlPanelError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from onboarding.controlpanel._models import (
    Customer,
    Domain,
    MailServer,
    NewCustomer,
    NewDomain,
    NewMailServer,
)
from onboarding.controlpanel._results import DomainSetup, ObjectResult, Outcome, SetupResult

__all__ = ["CustomerDomain", "InboundServer", "routed_only_to", "set_up_customer"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class InboundServer:
    """One of the customer's current inbound mail servers; lower ``priority`` is tried first."""

    host: str
    priority: int = 10

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("an inbound server needs a host name")
        if not 0 <= self.priority <= 65535:
            raise ValueError(f"priority must be 0..65535, got {self.priority}")


@dataclass(frozen=True)
class CustomerDomain:
    """What set-up needs of one customer domain: its name and where its mail goes today.

    ``CustomerDomain("acme.test", (InboundServer("mx.acme.test", 10),), delivery_port=25)``;
    ``name`` is the normalised (lower-case, no trailing dot) domain name.
    """

    name: str
    mail_servers: tuple[InboundServer, ...]
    delivery_port: int = 25

    def __post_init__(self) -> None:
        if not self.mail_servers:
            raise ValueError(f"domain {self.name}: at least one inbound mail server is needed")
        if not 1 <= self.delivery_port <= 65535:
            raise ValueError(f"domain {self.name}: delivery_port must be 1..65535")


def _create_or_find(create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """Create; if that fails in a way a duplicate could explain, return what now exists."""
    try:
        return create()
    except (AuthenticationFailed, PermissionDenied):
        raise
    except ControlPanelError:
        found = find()
        if found is None:
            raise
        return found


def _customer(cp: ControlPanelClient, name: str, reseller: str) -> tuple[ObjectResult, str | None]:
    found = cp.resellers.find(name=reseller)
    if found is None:
        raise NotFound(
            f"reseller {reseller!r} not found in the control panel; the API key must belong to "
            "that reseller (fix `reseller:` in the spec or ask MailRoute support for its key)"
        )
    existing = cp.customers.find(name=name)
    if existing is not None:
        if existing.reseller != found.resource_uri:
            return (
                ObjectResult(
                    "customer",
                    name,
                    Outcome.CONFLICT,
                    detail=f"a customer named {name!r} belongs to another reseller",
                    action="pick another `customer:` name in the spec, or ask MailRoute "
                    "support to move the customer to this reseller",
                ),
                None,
            )
        return ObjectResult("customer", name, Outcome.EXISTED), existing.resource_uri
    created: Customer = _create_or_find(
        lambda: cp.customers.create(NewCustomer(name=name, reseller=found.resource_uri)),
        lambda: cp.customers.find(name=name),
    )
    if created.reseller != found.resource_uri:
        return (
            ObjectResult(
                "customer",
                name,
                Outcome.CONFLICT,
                detail=f"a customer named {name!r} appeared under another reseller",
                action="pick another `customer:` name in the spec",
            ),
            None,
        )
    return ObjectResult("customer", name, Outcome.CREATED), created.resource_uri


def _domain(
    cp: ControlPanelClient,
    wanted: CustomerDomain,
    customer_uri: str,
    hosted: tuple[str, int] | None,
) -> DomainSetup:
    existing = cp.domains.find(name=wanted.name)
    if existing is not None and existing.customer != customer_uri:
        reason = f"domain {wanted.name} is owned by another customer"
        return DomainSetup(
            ObjectResult(
                "domain",
                wanted.name,
                Outcome.CONFLICT,
                detail=reason,
                action="confirm with the customer that the domain is theirs, then ask "
                "MailRoute support to move it (or remove it from the spec)",
            ),
            blocked_reason=reason + "; no accounts were created in it",
        )
    if existing is None:
        new = NewDomain(
            name=wanted.name,
            customer=customer_uri,
            hold_email=False,
            deliveryport=wanted.delivery_port,
        )
        try:
            domain: Domain = _create_or_find(
                lambda: cp.domains.create(new), lambda: cp.domains.find(name=wanted.name)
            )
        except ValidationFailed as exc:
            if "name" not in exc.field_errors:
                raise
            # Unique platform-wide (contract §6.2): another tenant has it, out of our sight.
            reason = f"domain {wanted.name} is registered to another MailRoute account"
            return DomainSetup(
                ObjectResult(
                    "domain",
                    wanted.name,
                    Outcome.CONFLICT,
                    detail=f"{reason}: {' '.join(exc.field_errors['name'])}",
                    action="confirm with the customer that the domain is theirs, then ask "
                    "MailRoute support to release it (or remove it from the spec)",
                ),
                blocked_reason=reason + "; no accounts were created in it",
            )
        if domain.customer != customer_uri:
            reason = f"domain {wanted.name} was just taken by another customer"
            return DomainSetup(
                ObjectResult("domain", wanted.name, Outcome.CONFLICT, detail=reason),
                blocked_reason=reason,
            )
        result = ObjectResult("domain", wanted.name, Outcome.CREATED)
    else:
        domain = existing
        notes = []
        if domain.hold_email:
            notes.append("delivery is on hold (left as is)")
        result = ObjectResult("domain", wanted.name, Outcome.EXISTED, detail="; ".join(notes))
    routing = _routing(cp, wanted, domain, hosted)
    return DomainSetup(result, routing=routing, uri=domain.resource_uri)


def routed_only_to(domain: Domain, servers: Sequence[MailServer], host: str, port: int) -> bool:
    """True when the domain's mail goes to ``host:port`` and nowhere else: how both the
    cutover and provisioning recognise a cut-over domain."""
    return {s.server for s in servers} == {host} and domain.deliveryport == port


def _routing(
    cp: ControlPanelClient, want: CustomerDomain, domain: Domain, hosted: tuple[str, int] | None
) -> tuple[ObjectResult, ...]:
    """Add the spec's mail servers, unless the domain already routes elsewhere (a conflict).

    Routing exactly to ``hosted`` (host, port) means the domain was cut over: left as is, so
    users added to the list later can still be provisioned.
    """
    current = cp.mail_servers.all(domain=domain.id)
    if hosted is not None and routed_only_to(domain, current, *hosted):
        return (
            ObjectResult(
                "routing",
                f"{want.name} → {hosted[0]}:{hosted[1]}",
                Outcome.EXISTED,
                detail="routed to the hosted mailboxes since the cutover (left as is)",
            ),
        )
    wanted = {m.host: m.priority for m in want.mail_servers}
    label = f"{want.name} → {', '.join(f'{h} ({p})' for h, p in wanted.items())}"
    problems = [
        f"{m.server} priority {m.priority}"
        + (f" (spec: {wanted[m.server]})" if m.server in wanted else " (not in spec)")
        for m in current
        if wanted.get(m.server) != m.priority
    ]
    if domain.deliveryport != want.delivery_port:
        problems.append(f"deliveryport {domain.deliveryport} (spec: {want.delivery_port})")
    if problems:
        return (
            ObjectResult(
                "routing",
                label,
                Outcome.CONFLICT,
                detail="the control panel has " + "; ".join(problems),
                action="if the customer's mail servers changed, update `mail_servers`/"
                "`delivery_port` in the spec; otherwise fix the domain's Delivery & MailServers "
                "tab in the control panel",
            ),
        )
    have = {m.server for m in current}
    results = []
    for host, priority in wanted.items():
        name = f"{want.name} → {host} ({priority})"
        if host in have:
            results.append(ObjectResult("mail_server", name, Outcome.EXISTED))
            continue
        new = NewMailServer(domain=domain.resource_uri, server=host, priority=priority)
        _create_or_find(
            partial(cp.mail_servers.create, new), partial(_find_server, cp, domain.id, host)
        )
        results.append(ObjectResult("mail_server", name, Outcome.CREATED))
    return tuple(results)


def _find_server(cp: ControlPanelClient, domain_id: int, host: str) -> MailServer | None:
    return next((m for m in cp.mail_servers.list(domain=domain_id) if m.server == host), None)


def set_up_customer(
    cp: ControlPanelClient,
    *,
    customer: str,
    reseller: str,
    domains: Sequence[CustomerDomain],
    hosted: tuple[str, int] | None = None,
) -> SetupResult:
    """Ensure the customer, each domain and its routing exist as the spec says.

    ``hosted`` is the cutover's delivery target (host, port): a domain already routed there
    is cut over, and its routing is left as is rather than reported as a conflict.

    Raises AuthenticationFailed/PermissionDenied at once, NotFound when the reseller is
    unknown; everything else is reported per object in the result.
    """
    cust, uri = _customer(cp, customer, reseller)
    if uri is None:
        blocked = tuple(
            DomainSetup(
                ObjectResult("domain", d.name, Outcome.FAILED, detail="customer conflict"),
                blocked_reason=f"customer {customer!r} conflicts; nothing was created",
            )
            for d in domains
        )
        return SetupResult(cust, blocked)
    results = []
    for wanted in domains:
        try:
            results.append(_domain(cp, wanted, uri, hosted))
        except (AuthenticationFailed, PermissionDenied):
            raise
        except ControlPanelError as exc:
            log.warning("domain %s: %s", wanted.name, exc)
            results.append(
                DomainSetup(
                    ObjectResult("domain", wanted.name, Outcome.FAILED, detail=str(exc)),
                    blocked_reason=f"setting up domain {wanted.name} failed: {exc}",
                )
            )
    return SetupResult(cust, tuple(results), customer_uri=uri)
