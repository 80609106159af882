"""Fetch a domain's client configuration the way Thunderbird and Outlook do, and check it.

- Thunderbird (Mozilla autoconfig, first lookup): resolve ``autoconfig.<domain>``, then
  ``GET /mail/config-v1.1.xml?emailaddress=<address>`` with that name as ``Host``.
- Outlook (Autodiscover POX): resolve ``autodiscover.<domain>``, then ``POST
  /autodiscover/autodiscover.xml`` with the request schema's ``EMailAddress``.

Names are resolved through the resolvers given (never the system's), following the CNAME to
our host; the HTTP request goes to the address found, with the customer's name in ``Host``
(and as TLS SNI over HTTPS), exactly what a client's request looks like when it reaches our
host. A check passes when the file names our IMAP and submission hosts with implicit TLS on
993 / 465 (or STARTTLS on 587) and the full address as the username.

``check_`` functions never raise: a name that does not resolve, a host that does not answer,
a missing or wrong file each become the result's ``error`` with its ``fix``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal
from xml.sax.saxutils import escape

import dns.exception
import dns.resolver
import httpx

from onboarding.clientconfig.files import IMAPS_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT
from onboarding.clientconfig.publish import (
    AUTOCONFIG_PATH,
    AUTODISCOVER_PATH,
    autoconfig_site,
    autodiscover_site,
)
from onboarding.clientconfig.records import ClientHosts
from onboarding.reports import report_row

if TYPE_CHECKING:
    from onboarding.dnscheck.query import Server

__all__ = [
    "AUTODISCOVER_REQUEST_NS",
    "ClientLookup",
    "LookupResult",
    "autodiscover_request",
    "check_autoconfig",
    "check_autodiscover",
    "check_client_config",
    "parse_autoconfig",
    "parse_autodiscover",
]

AUTODISCOVER_REQUEST_NS = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
)
_AD_OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


@dataclass(frozen=True)
class ClientLookup:
    """How to reach our hosts: resolvers, URL scheme and port (443/80 unless a lab's)."""

    resolvers: tuple[Server, ...]
    scheme: Literal["https", "http"] = "https"
    port: int | None = None
    timeout: float = 5.0
    verify: bool | str = True  # a CA bundle path for a lab CA


@dataclass(frozen=True)
class ServerSetting:
    """One server a file points at: ``imap.mailroute.net:993 SSL``."""

    host: str
    port: int | None
    security: str
    username: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port} {self.security}"


@report_row
@dataclass(frozen=True)
class LookupResult:
    """One client-style lookup for one domain; one shape whether it passed or not."""

    domain: str
    client: Literal["thunderbird", "outlook"]
    name: str
    url: str
    resolved: tuple[str, ...]
    valid: bool
    imap: str | None = None
    smtp: str | None = None
    error: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"resolved": list(self.resolved)}


class _Problem(Exception):
    def __init__(self, error: str, fix: str) -> None:
        super().__init__(error)
        self.error, self.fix = error, fix


def _norm(host: str) -> str:
    return host.rstrip(".").lower()


def _resolve(name: str, expected_target: str, lookup: ClientLookup) -> tuple[str, ...]:
    """``(name, canonical name, address)``; a _Problem when it does not lead to our host."""
    from onboarding.dnscheck.query import make_resolver  # dnscheck imports this package

    publish = f"publish the DNS plan's record `{name}` CNAME `{_norm(expected_target)}.`"
    resolver = make_resolver(lookup.resolvers, timeout=lookup.timeout)
    try:
        # The CNAME first: one to another provider is the finding, even if its target is dead.
        try:
            target = _norm(resolver.resolve(name, "CNAME")[0].target.to_text())
        except dns.resolver.NoAnswer:
            target = _norm(expected_target)  # an address of its own: judged by the A answer
        if target != _norm(expected_target):
            raise _Problem(
                f"{name} points at {target}, not at our host {_norm(expected_target)}",
                f"replace it: {publish} (an old provider's name keeps clients on the old servers)",
            )
        answer = resolver.resolve(name, "A")
    except dns.resolver.NXDOMAIN as exc:
        raise _Problem(f"{name} does not exist in DNS", publish) from exc
    except dns.resolver.NoAnswer as exc:
        raise _Problem(f"{name} has no address record", publish) from exc
    except dns.exception.DNSException as exc:
        raise _Problem(
            f"{name} could not be resolved ({type(exc).__name__})",
            "check dns.resolvers in customer.yaml and re-run verify",
        ) from exc
    canonical = _norm(answer.canonical_name.to_text())
    address = str(answer[0].address)
    if canonical != _norm(expected_target):
        raise _Problem(
            f"{name} points at {canonical}, not at our host {_norm(expected_target)}",
            f"replace it: {publish} (an old provider's name keeps clients on the old servers)",
        )
    return (name, canonical, address)


def _request(
    method: str, name: str, path: str, address: str, lookup: ClientLookup, **kwargs: Any
) -> tuple[str, httpx.Response]:
    port = f":{lookup.port}" if lookup.port else ""
    url = f"{lookup.scheme}://{name}{port}{path}"
    target = f"{lookup.scheme}://{address}{port}{path}"
    try:
        with httpx.Client(timeout=lookup.timeout, verify=lookup.verify) as client:
            response = client.request(
                method,
                target,
                headers={"Host": name, **kwargs.pop("headers", {})},
                extensions={"sni_hostname": name},
                **kwargs,
            )
    except httpx.HTTPError as exc:
        raise _Problem(
            f"{url}: no answer from {address} ({type(exc).__name__})",
            "check that our client-configuration host is up and serves this name",
        ) from exc
    if response.status_code == 404:
        raise _Problem(
            f"{url}: not published (HTTP 404)",
            f"publish publish/{name}{path} from the latest `onboard client-guides` run on our "
            "client-configuration host",
        )
    if response.status_code != 200:
        raise _Problem(
            f"{url}: HTTP {response.status_code}",
            "check the client-configuration host's log; the file must be served with 200",
        )
    return url, response


def _text(el: ET.Element, tag: str) -> str:
    return (el.findtext(tag) or "").strip()


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def parse_autoconfig(xml: bytes | str) -> tuple[ServerSetting, ServerSetting]:
    """The first IMAP incoming and the first SMTP outgoing server of a ``config-v1.1.xml``.

    Raises ValueError when it is not autoconfig XML or lacks either server.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from exc
    imap = root.find("emailProvider/incomingServer[@type='imap']")
    smtp = root.find("emailProvider/outgoingServer[@type='smtp']")
    if root.tag != "clientConfig" or imap is None or smtp is None:
        raise ValueError("not a clientConfig with an IMAP incoming and an SMTP outgoing server")
    return tuple(  # type: ignore[return-value]
        ServerSetting(
            _text(s, "hostname"),
            _port(_text(s, "port")),
            _text(s, "socketType"),
            _text(s, "username"),
        )
        for s in (imap, smtp)
    )


def parse_autodiscover(xml: bytes | str) -> tuple[ServerSetting, ServerSetting]:
    """The IMAP and SMTP ``Protocol`` of an Autodiscover POX response (``SSL`` on → ``SSL``).

    Raises ValueError when it is not such a response or lacks either protocol.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from exc
    ns = f"{{{_AD_OUTLOOK}}}"
    found: dict[str, ServerSetting] = {}
    for proto in root.iter(f"{ns}Protocol"):
        kind = _text(proto, f"{ns}Type").upper()
        ssl = _text(proto, f"{ns}SSL").lower()
        found.setdefault(
            kind,
            ServerSetting(
                _text(proto, f"{ns}Server"),
                _port(_text(proto, f"{ns}Port")),
                "SSL" if ssl in ("on", "") else "none",
                _text(proto, f"{ns}LoginName"),
            ),
        )
    if "IMAP" not in found or "SMTP" not in found:
        raise ValueError("not an Autodiscover response with an IMAP and an SMTP protocol")
    return found["IMAP"], found["SMTP"]


def autodiscover_request(email: str) -> str:
    """The POX request Outlook posts for ``email`` (Autodiscover request schema 2006)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<Autodiscover xmlns="{AUTODISCOVER_REQUEST_NS}">\n  <Request>\n'
        f"    <EMailAddress>{escape(email)}</EMailAddress>\n"
        f"    <AcceptableResponseSchema>{_AD_OUTLOOK}</AcceptableResponseSchema>\n"
        "  </Request>\n</Autodiscover>\n"
    )


def _judge(
    imap: ServerSetting, smtp: ServerSetting, hosts: ClientHosts, email: str, url: str
) -> None:
    """Raise a _Problem naming the first setting that does not point at our servers."""
    republish = "re-publish the file from the latest `onboard client-guides` run"
    if _norm(imap.host) != _norm(hosts.imap_host) or imap.port != IMAPS_PORT:
        raise _Problem(
            f"{url} sends IMAP to {imap}, not to {_norm(hosts.imap_host)}:{IMAPS_PORT}", republish
        )
    if imap.security != "SSL":
        raise _Problem(f"{url} sends IMAP without TLS ({imap})", republish)
    good_smtp = (smtp.port == SUBMISSIONS_PORT and smtp.security == "SSL") or (
        smtp.port == SUBMISSION_PORT and smtp.security in ("STARTTLS", "SSL")
    )
    if _norm(smtp.host) != _norm(hosts.submission_host) or not good_smtp:
        raise _Problem(
            f"{url} sends outgoing mail to {smtp}, not to {_norm(hosts.submission_host)}:"
            f"{SUBMISSIONS_PORT} SSL",
            republish,
        )
    for s in (imap, smtp):
        if s.username.lower() not in ("%emailaddress%", email.lower()):
            raise _Problem(
                f"{url} gives the username {s.username!r}, not the full address", republish
            )


def check_autoconfig(
    domain: str, email: str, hosts: ClientHosts, lookup: ClientLookup
) -> LookupResult:
    """Thunderbird's lookup of ``domain`` for ``email``; never raises."""
    query = {"emailaddress": email}
    return _check_lookup("thunderbird", domain, email, hosts, lookup, params=query)


def check_autodiscover(
    domain: str, email: str, hosts: ClientHosts, lookup: ClientLookup
) -> LookupResult:
    """Outlook's POX lookup of ``domain`` for ``email``; never raises."""
    body = autodiscover_request(email).encode()
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    return _check_lookup("outlook", domain, email, hosts, lookup, content=body, headers=headers)


_Client = Literal["thunderbird", "outlook"]
_Parser = Callable[[bytes], tuple[ServerSetting, ServerSetting]]
# Per client: the name it asks, the host of ours that serves it, the method, path and parser.
_CLIENT_LOOKUPS: dict[_Client, tuple[Callable[[str], str], str, str, str, _Parser]] = {
    "thunderbird": (autoconfig_site, "autoconfig_host", "GET", AUTOCONFIG_PATH, parse_autoconfig),
    "outlook": (
        autodiscover_site,
        "autodiscover_host",
        "POST",
        AUTODISCOVER_PATH,
        parse_autodiscover,
    ),
}


def _check_lookup(
    client: _Client,
    domain: str,
    email: str,
    hosts: ClientHosts,
    lookup: ClientLookup,
    **request: Any,
) -> LookupResult:
    """Resolve the name ``client`` asks, request its file as it does, judge it; never raises."""
    site, served_by, method, path, parse = _CLIENT_LOOKUPS[client]
    name = site(domain)
    url = f"{lookup.scheme}://{name}{path}"
    resolved: tuple[str, ...] = ()
    try:
        resolved = _resolve(name, getattr(hosts, served_by), lookup)
        url, response = _request(method, name, path, resolved[-1], lookup, **request)
        try:
            imap, smtp = parse(response.content)
        except ValueError as exc:
            raise _Problem(
                f"{url}: {exc}", "re-publish the file from `onboard client-guides`"
            ) from exc
        _judge(imap, smtp, hosts, email, url)
    except _Problem as p:
        return LookupResult(domain, client, name, url, resolved, False, error=p.error, fix=p.fix)
    return LookupResult(domain, client, name, url, resolved, True, str(imap), str(smtp))


def check_client_config(
    addresses: Sequence[tuple[str, str]], hosts: ClientHosts, lookup: ClientLookup
) -> tuple[LookupResult, ...]:
    """Both lookups for every ``(domain, address)``: Thunderbird's, then Outlook's."""
    results: list[LookupResult] = []
    for domain, email in addresses:
        results.append(check_autoconfig(domain, email, hosts, lookup))
        results.append(check_autodiscover(domain, email, hosts, lookup))
    return tuple(results)
