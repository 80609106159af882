"""DNS queries against explicitly named servers: authoritative (AA, RD cleared) or caching.

Nothing here uses the system resolver. Every call names the server it asks and takes a time
budget, so an unreachable server becomes :class:`DNSTimeoutError` within that budget.

An authoritative answer carries the *configured* TTL; a caching resolver's answer carries
the *remaining* TTL (reference dns.md §4). Negative answers (NXDOMAIN, NODATA) report the
negative-cache time of RFC 2308 §5: min(SOA TTL, SOA MINIMUM) from the authority section.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass
from enum import StrEnum

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

from onboarding.dnscheck._exceptions import (
    DNSTimeoutError,
    NoNameserversError,
    NotAuthoritativeError,
    ServerFailureError,
    translate,
)

__all__ = [
    "Answer",
    "AnswerStatus",
    "Server",
    "discover_nameservers",
    "make_resolver",
    "parse_server",
    "query_authoritative",
    "query_resolver",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Server:
    """A DNS server by IP address and port (``127.0.0.1:10053``)."""

    host: str
    port: int = 53

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_server(text: str) -> Server:
    """Return the :class:`Server` for ``"ip"``, ``"ip:port"`` or ``"[v6]:port"``.

    Raises ValueError (a caller mistake: the spec validator should have caught it).
    """
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = int(rest.removeprefix(":"))
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"DNS server {text!r} must be an IP address with an optional :port"
        ) from None
    if not 1 <= port <= 65535:
        raise ValueError(f"DNS server {text!r}: port must be 1-65535")
    return Server(host, port)


class AnswerStatus(StrEnum):
    """What kind of answer came back (RFC 2308 names)."""

    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"


@dataclass(frozen=True)
class Answer:
    """One server's answer to one question, with TTLs as that server reported them.

    ``records`` are presentation texts; a TXT record is its strings joined (RFC 7208 §3.3) and
    decoded, e.g. ``("v=spf1 include:spf.mailroute.test ~all",)``; an MX record is
    ``"10 mail.mailroute.test."``.
    """

    name: str
    rdtype: str
    server: Server
    status: AnswerStatus
    records: tuple[str, ...] = ()
    ttl: int | None = None
    negative_ttl: int | None = None
    authoritative: bool = False
    serial: int | None = None

    @property
    def exists(self) -> bool:
        return self.status is AnswerStatus.OK and bool(self.records)


def _record_text(rdtype: dns.rdatatype.RdataType, rdata: object) -> str:
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    return str(rdata.to_text())  # type: ignore[attr-defined]


def _negative_ttl(response: dns.message.Message) -> tuple[int | None, int | None]:
    """Return (negative TTL, SOA serial) from the authority section (RFC 2308 §5)."""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            soa = rrset[0]
            return min(rrset.ttl, soa.minimum), soa.serial
    return None, None


def _answer_from(
    response: dns.message.Message,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    server: Server,
) -> Answer:
    authoritative = bool(response.flags & dns.flags.AA)
    rcode = response.rcode()
    name_text = qname.to_text(omit_final_dot=True)
    type_text = dns.rdatatype.to_text(rdtype)
    if rcode == dns.rcode.NXDOMAIN:
        neg, serial = _negative_ttl(response)
        return Answer(
            name_text,
            type_text,
            server,
            AnswerStatus.NXDOMAIN,
            negative_ttl=neg,
            authoritative=authoritative,
            serial=serial,
        )
    if rcode != dns.rcode.NOERROR:
        rc = dns.rcode.to_text(rcode)
        raise ServerFailureError(
            f"{type_text} of {name_text} at {server}: the server answered {rc}; "
            "check the zone is loaded and the server serves it",
            domain=name_text,
            server=str(server),
            rcode=rc,
        )
    # Follow an in-answer CNAME chain to the final owner (RFC 1034 §3.6.2).
    owner = qname
    for _ in range(8):
        cname = response.get_rrset(response.answer, owner, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None or rdtype == dns.rdatatype.CNAME:
            break
        owner = cname[0].target
    rrset = response.get_rrset(response.answer, owner, dns.rdataclass.IN, rdtype)
    if rrset is None:
        neg, serial = _negative_ttl(response)
        return Answer(
            name_text,
            type_text,
            server,
            AnswerStatus.NODATA,
            negative_ttl=neg,
            authoritative=authoritative,
            serial=serial,
        )
    records = tuple(sorted(_record_text(rdtype, rd) for rd in rrset))
    serial = rrset[0].serial if rdtype == dns.rdatatype.SOA else None
    return Answer(
        name_text,
        type_text,
        server,
        AnswerStatus.OK,
        records,
        ttl=rrset.ttl,
        authoritative=authoritative,
        serial=serial,
    )


def _exchange(
    name: str, rdtype: str, server: Server, *, recursion: bool, timeout: float
) -> dns.message.Message:
    """Send one question (UDP, TCP on truncation), retrying once within ``timeout``."""
    qname = dns.name.from_text(name)
    query = dns.message.make_query(qname, rdtype, use_edns=0, payload=1232)
    if not recursion:
        query.flags &= ~dns.flags.RD
    deadline = time.monotonic() + timeout
    what = f"{rdtype} of {name} at {server}"
    last: Exception | None = None
    for attempt in range(2):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        per_try = remaining / (2 - attempt)
        try:
            response, _tcp = dns.query.udp_with_fallback(
                query, server.host, timeout=per_try, port=server.port
            )
            return response
        except (dns.exception.Timeout, ConnectionError) as exc:
            last = exc
        except (dns.exception.DNSException, OSError) as exc:
            raise translate(exc, what=what, domain=name, server=str(server)) from exc
    raise DNSTimeoutError(
        f"{what}: no answer within {timeout:g} s; check the server address and port, or raise "
        "dns.timeout_seconds in customer.yaml",
        domain=name,
        server=str(server),
    ) from last


def query_authoritative(name: str, rdtype: str, server: Server, *, timeout: float) -> Answer:
    """Ask an authoritative server directly (RD cleared); the TTL is the configured one.

    Raises :class:`NotAuthoritativeError` when the answer lacks the AA bit (lame delegation),
    :class:`ServerFailureError` on an error rcode, :class:`DNSTimeoutError` on silence.
    """
    response = _exchange(name, rdtype, server, recursion=False, timeout=timeout)
    answer = _answer_from(
        response, dns.name.from_text(name), dns.rdatatype.from_text(rdtype), server
    )
    if not answer.authoritative:
        raise NotAuthoritativeError(
            f"{rdtype} of {name} at {server}: the answer is not authoritative (no AA flag); the "
            "server does not serve this zone: fix dns.nameservers in customer.yaml",
            domain=name,
            server=str(server),
        )
    return answer


def query_resolver(name: str, rdtype: str, server: Server, *, timeout: float) -> Answer:
    """Ask a caching resolver (RD set); the TTL is what remains in its cache."""
    response = _exchange(name, rdtype, server, recursion=True, timeout=timeout)
    return _answer_from(response, dns.name.from_text(name), dns.rdatatype.from_text(rdtype), server)


def make_resolver(servers: tuple[Server, ...], *, timeout: float) -> dns.resolver.Resolver:
    """Return a dnspython resolver that asks only ``servers``, without cache or system config.

    For libraries that take a resolver (checkdmarc, our pyspf scope, dkimpy's dnsfunc).
    """
    if not servers:
        raise ValueError("make_resolver needs at least one server")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(s.host, s.port) for s in servers]
    resolver.timeout = min(1.0, timeout)
    resolver.lifetime = timeout
    resolver.cache = None
    return resolver


def discover_nameservers(
    domain: str, resolvers: tuple[Server, ...], *, timeout: float
) -> tuple[Server, ...]:
    """Return the addresses (port 53) of the NS hosts of ``domain``'s zone, via ``resolvers``.

    Walks up from ``domain`` to the zone cut. Raises :class:`NoNameserversError` when the name
    does not exist, no zone above it has NS records, or no NS host has an address.
    """
    resolver = make_resolver(resolvers, timeout=timeout)
    name = dns.name.from_text(domain)
    what = f"NS of {domain} via {', '.join(map(str, resolvers))}"
    ns_hosts: list[str] = []
    while len(name.labels) > 1:
        try:
            answer = resolver.resolve(name, "NS", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            raise NoNameserversError(
                f"{what}: {name.to_text(True)} does not exist (NXDOMAIN); check the domain "
                "name in customer.yaml or register the domain",
                domain=domain,
            ) from exc
        except dns.exception.DNSException as exc:
            raise translate(exc, what=what, domain=domain) from exc
        if answer.rrset is not None:
            ns_hosts = sorted(str(rd.target) for rd in answer.rrset)
            break
        name = name.parent()
    if not ns_hosts:
        raise NoNameserversError(
            f"{what}: no NS records for {domain} or any parent zone; publish the delegation, "
            "or list the servers in dns.nameservers in customer.yaml",
            domain=domain,
        )
    servers: list[Server] = []
    for host in ns_hosts:
        try:
            addrs = resolver.resolve(host, "A", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            continue
        except dns.exception.DNSException as exc:
            raise translate(exc, what=f"A of {host}", domain=domain) from exc
        if addrs.rrset is not None:
            servers.extend(Server(rd.address) for rd in addrs.rrset)
    if not servers:
        raise NoNameserversError(
            f"{what}: the NS hosts {', '.join(ns_hosts)} have no IPv4 address; fix the "
            "delegation or list the servers in dns.nameservers in customer.yaml",
            domain=domain,
        )
    log.debug("nameservers of %s: %s", domain, servers)
    return tuple(sorted(set(servers)))
