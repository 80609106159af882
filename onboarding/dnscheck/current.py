"""What a domain publishes today, read from its authoritative servers (configured TTLs).

Authoritative answers only (AA, RD cleared; reference dns.md §4): a cache's remaining TTL
would understate how long the world may keep the old MX. Nameservers are the configured
:attr:`DNSServers.nameservers <onboarding.dnscheck.inputs.DNSServers>`, else the ones the
domain's NS records name, found via the resolvers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onboarding.clientconfig import ClientHosts, client_records
from onboarding.dnscheck import dkim as dkim_mod
from onboarding.dnscheck import dmarc as dmarc_mod
from onboarding.dnscheck import spf as spf_mod
from onboarding.dnscheck._exceptions import DNSCheckError
from onboarding.dnscheck.inputs import DNSServers
from onboarding.dnscheck.mx import MXHost, parse_mx
from onboarding.dnscheck.query import (
    Answer,
    AnswerStatus,
    Server,
    discover_nameservers,
    query_authoritative,
)

__all__ = ["CurrentDNS", "client_names", "nameservers_for", "read_current"]


@dataclass(frozen=True)
class CurrentDNS:
    """What the authoritative servers publish today for one domain (configured TTLs)."""

    domain: str
    servers: tuple[str, ...]
    mx: tuple[MXHost, ...]
    mx_ttl: int | None
    txt: tuple[str, ...]
    dmarc: tuple[str, ...]
    mta_sts: tuple[str, ...]
    dkim: tuple[str, ...]
    client: tuple[tuple[str, str, tuple[str, ...]], ...]
    negative_ttl: int | None

    @property
    def spf(self) -> tuple[str, ...]:
        return spf_mod.spf_records(self.txt)


def _ask(name: str, rdtype: str, servers: Sequence[Server], timeout: float) -> Answer:
    """Ask the authoritative servers in turn; the first usable answer wins."""
    errors: list[str] = []
    for server in servers:
        try:
            return query_authoritative(name, rdtype, server, timeout=timeout)
        except DNSCheckError as exc:
            errors.append(str(exc))
    raise DNSCheckError(
        f"{rdtype} of {name}: no authoritative server answered: " + " | ".join(errors),
        domain=name,
    )


def read_current(
    domain: str,
    *,
    nameservers: Sequence[Server],
    selector: str,
    client_names: Sequence[tuple[str, str]],
    timeout: float,
) -> CurrentDNS:
    """Read the records the plan touches from the authoritative servers.

    The MX TTL is the largest any authoritative server reports (a secondary may lag).
    Raises :class:`DNSCheckError` when no server answers.
    """
    mx_ttls: list[int] = []
    mx_answer: Answer | None = None
    errors: list[str] = []
    for server in nameservers:
        try:
            ans = query_authoritative(domain, "MX", server, timeout=timeout)
        except DNSCheckError as exc:
            errors.append(str(exc))
            continue
        mx_answer = mx_answer or ans
        if ans.ttl is not None:
            mx_ttls.append(ans.ttl)
    if mx_answer is None:
        raise DNSCheckError(
            f"MX of {domain}: no authoritative server answered: " + " | ".join(errors),
            domain=domain,
        )
    if mx_answer.status is AnswerStatus.NXDOMAIN:
        raise DNSCheckError(
            f"{domain} does not exist at its authoritative servers (NXDOMAIN); check the domain "
            "name in customer.yaml and that dns.nameservers serve its zone",
            domain=domain,
        )
    txt = _ask(domain, "TXT", nameservers, timeout)
    dmarc = _ask(f"_dmarc.{domain}", "TXT", nameservers, timeout)
    mta_sts = _ask(f"_mta-sts.{domain}", "TXT", nameservers, timeout)
    dkim = _ask(dkim_mod.dkim_record_name(selector, domain), "TXT", nameservers, timeout)
    client = []
    for name, rdtype in client_names:
        ans = _ask(name, rdtype, nameservers, timeout)
        if ans.records:
            client.append((name, rdtype, ans.records))
    return CurrentDNS(
        domain=domain,
        servers=tuple(str(s) for s in nameservers),
        mx=parse_mx(mx_answer.records),
        mx_ttl=max(mx_ttls) if mx_ttls else None,
        txt=txt.records,
        dmarc=tuple(r for r in dmarc.records if dmarc_mod.is_dmarc_record(r)),
        mta_sts=tuple(r for r in mta_sts.records if r.startswith("v=STSv1")),
        dkim=dkim.records,
        client=tuple(client),
        negative_ttl=_negative_ttl(domain, nameservers, timeout) or dmarc.negative_ttl,
    )


def _negative_ttl(domain: str, servers: Sequence[Server], timeout: float) -> int | None:
    """min(SOA TTL, SOA MINIMUM) of the domain's zone: how long a resolver caches "no such
    name" (RFC 2308 §5). None when ``domain`` is not a zone apex."""
    try:
        soa = _ask(domain, "SOA", servers, timeout)
    except DNSCheckError:
        return None
    if soa.status is not AnswerStatus.OK or soa.ttl is None:
        return None
    return min(soa.ttl, int(soa.records[0].split()[-1]))


def nameservers_for(domain: str, *, servers: DNSServers) -> tuple[Server, ...]:
    """Return the configured authoritative servers, else the ones the NS records name."""
    if servers.nameservers:
        return servers.nameservers
    return discover_nameservers(domain, servers.resolvers, timeout=servers.timeout)


def client_names(domain: str) -> tuple[tuple[str, str], ...]:
    """The (name, type) pairs of the client-configuration records, to read what exists."""
    hosts = ClientHosts("x", "x", "x", "x")
    return tuple((r.name, r.rdtype) for r in client_records(domain, hosts))
