"""SPF (RFC 7208) on record text: parse, merge the customer's record with ours, findings.

Everything here is pure; :mod:`.spf_check` adds the DNS (lookup counts via checkdmarc,
evaluation via pyspf). The conflict table of reference dns.md §7 maps to these finding codes:

==========================  ===========================================  ========
situation                   code                                         severity
==========================  ===========================================  ========
two SPF records             ``multiple-records``                         fail
>10 lookups with ours       ``too-many-lookups``                         fail
include target has no SPF   ``include-without-spf``                      fail
void lookups 1-2 / >2       ``void-lookups`` / ``too-many-void-lookups``  warn/fail
old provider include left   ``old-provider-include``                     warn
``mx`` kept after cutover   ``mx-mechanism``                             info
``+all`` / ``?all``         ``plus-all`` / ``neutral-all``               fail/warn
==========================  ===========================================  ========
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from onboarding.dnscheck.results import Finding, Severity

__all__ = [
    "KNOWN_PROVIDER_INCLUDES",
    "SPFTerm",
    "all_findings",
    "all_qualifier",
    "include_findings",
    "includes",
    "is_spf_record",
    "lookup_findings",
    "merge_spf",
    "old_provider_includes",
    "parse_terms",
    "record_count_findings",
    "spf_records",
]

MAX_LOOKUPS = 10  # RFC 7208 §4.6.4
MAX_VOID_LOOKUPS = 2  # RFC 7208 §4.6.4
_LOOKUP_TERMS = {"include", "a", "mx", "ptr", "exists", "redirect"}
_QUALIFIERS = "+-~?"

#: Include targets of common mail providers: an include of one of these that is not ours is
#: the customer's old provider (or another sender the customer must confirm).
KNOWN_PROVIDER_INCLUDES: dict[str, str] = {
    "spf.protection.outlook.com": "Microsoft 365",
    "_spf.google.com": "Google Workspace",
    "zoho.com": "Zoho Mail",
    "zoho.eu": "Zoho Mail",
    "spf.messagingengine.com": "Fastmail",
    "secureserver.net": "GoDaddy",
    "_spf.mx.cloudflare.net": "Cloudflare Email Routing",
    "spf.mxroute.com": "MXroute",
    "_spf.protonmail.ch": "Proton Mail",
    "spf.mailjet.com": "Mailjet",
    "mx.ovh.com": "OVHcloud",
    "_spf.rackspace.com": "Rackspace Email",
}


@dataclass(frozen=True)
class SPFTerm:
    """One term of an SPF record: a mechanism (``-include:x``) or a modifier (``redirect=x``)."""

    qualifier: str
    name: str
    value: str | None = None
    modifier: bool = False

    @property
    def text(self) -> str:
        if self.modifier:
            return f"{self.name}={self.value}"
        qual = "" if self.qualifier == "+" else self.qualifier
        if not self.value:
            return f"{qual}{self.name}"
        sep = "" if self.value.startswith("/") else ":"  # mx/24 has no colon
        return f"{qual}{self.name}{sep}{self.value}"


def is_spf_record(text: str) -> bool:
    """Return True for a TXT value that is an SPF record: ``v=spf1`` then space or end (§4.5)."""
    return re.match(r"(?i)^v=spf1( |$)", text) is not None


def spf_records(txts: Iterable[str]) -> tuple[str, ...]:
    """Return the SPF records among a name's TXT values (more than one is a permerror)."""
    return tuple(t for t in txts if is_spf_record(t))


def parse_terms(record: str) -> tuple[SPFTerm, ...]:
    """Split an SPF record into terms; ``v=spf1`` is dropped. Syntax is checked elsewhere.

    ``"v=spf1 a:mail.x ~all"`` → ``(SPFTerm("+", "a", "mail.x"), SPFTerm("~", "all"))``.
    """
    terms: list[SPFTerm] = []
    for raw in record.split()[1:]:
        m = re.match(r"^([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)$", raw)
        if m:
            terms.append(SPFTerm("", m.group(1).lower(), m.group(2), modifier=True))
            continue
        qual = raw[0] if raw[0] in _QUALIFIERS else "+"
        body = raw[1:] if raw[0] in _QUALIFIERS else raw
        name, sep, value = body.partition(":")
        if not sep and "/" in name:  # a/24, mx/24
            name, _, cidr = name.partition("/")
            value = "/" + cidr
        terms.append(SPFTerm(qual, name.lower(), value or None))
    return tuple(terms)


def all_qualifier(record: str) -> str | None:
    """Return the qualifier of the record's ``all`` (``"-"``, ``"~"``, ``"+"``, ``"?"``)."""
    for term in parse_terms(record):
        if term.name == "all" and not term.modifier:
            return term.qualifier
    return None


def includes(record: str) -> tuple[str, ...]:
    """Return the include targets (lowercase, no trailing dot), in record order."""
    return tuple(
        (t.value or "").lower().rstrip(".")
        for t in parse_terms(record)
        if t.name == "include" and not t.modifier
    )


def _org(host: str) -> str:
    labels = host.lower().rstrip(".").split(".")
    return ".".join(labels[-2:])


def old_provider_includes(
    record: str,
    *,
    our_include: str,
    old_mail_hosts: Sequence[str] = (),
    declared: Sequence[str] = (),
) -> dict[str, str]:
    """Return ``{include target: why we think it is the old provider}`` for ``record``.

    Old = declared in the spec (``dns.old_spf_includes``), a known provider's include, or in
    the same organisational domain as one of the current MX hosts.
    """
    ours = our_include.lower().rstrip(".")
    declared_set = {d.lower().rstrip(".") for d in declared}
    host_orgs = {_org(h): h for h in old_mail_hosts if not _is_ip(h)}
    found: dict[str, str] = {}
    for target in includes(record):
        if target == ours:
            continue
        if target in declared_set:
            found[target] = "listed in dns.old_spf_includes"
        elif target in KNOWN_PROVIDER_INCLUDES:
            found[target] = f"{KNOWN_PROVIDER_INCLUDES[target]}'s include"
        elif _org(target) in host_orgs:
            found[target] = f"same provider as the current MX host {host_orgs[_org(target)]}"
    return found


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def merge_spf(records: Sequence[str], our_include: str) -> str:
    """Return one SPF record with every term of ``records`` plus ``include:<our_include>``.

    Duplicate terms are dropped; a ``redirect=`` becomes an ``include:`` (so both providers'
    hosts still pass); ``exp=`` keeps the first. The ``all`` is the strictest existing
    ``-all``/``~all``, else ``~all`` (``+all``/``?all`` would let anyone pass).
    """
    ours = our_include.lower().rstrip(".")
    body: list[str] = []
    exp: str | None = None
    qualifiers: list[str] = []
    for record in records:
        for term in parse_terms(record):
            if term.modifier:
                if term.name == "redirect" and term.value:
                    text = f"include:{term.value}"
                elif term.name == "exp" and exp is None:
                    exp = term.text
                    continue
                else:
                    continue
            elif term.name == "all":
                qualifiers.append(term.qualifier)
                continue
            else:
                text = term.text
            if text.lower() not in (b.lower() for b in body):
                body.append(text)
    if f"include:{ours}" not in (b.lower().lstrip("+") for b in body):
        body.append(f"include:{ours}")
    final_all = "-all" if "-" in qualifiers else "~all"
    parts = ["v=spf1", *body, final_all]
    if exp:
        parts.append(exp)
    return " ".join(parts)


# --- findings: pure functions over what was read -----------------------------------------


def record_count_findings(domain: str, records: Sequence[str]) -> tuple[Finding, ...]:
    """Findings for the number of SPF records at ``domain`` (RFC 7208 §4.5)."""
    if not records:
        return (
            Finding(
                Severity.FAIL,
                "no-record",
                f"{domain}: no SPF record (TXT starting with v=spf1)",
                fix="publish the SPF record from the DNS plan",
            ),
        )
    if len(records) > 1:
        return (
            Finding(
                Severity.FAIL,
                "multiple-records",
                f"{domain} has {len(records)} SPF records; RFC 7208 §4.5 makes that a "
                "permerror, so no mail passes SPF",
                fix="delete all of them and publish the single merged record from the DNS plan",
            ),
        )
    return ()


def all_findings(domain: str, record: str) -> tuple[Finding, ...]:
    """Findings for the record's ``all`` term (``+all``, ``?all``, or none)."""
    qual = all_qualifier(record)
    has_redirect = any(t.modifier and t.name == "redirect" for t in parse_terms(record))
    if qual == "+":
        return (
            Finding(
                Severity.FAIL,
                "plus-all",
                f"{domain}: SPF ends in +all, so every host on the internet passes SPF "
                "(RFC 7208 §5.1)",
                fix="end the record with ~all (or -all once every sender is listed)",
            ),
        )
    if qual == "?":
        return (
            Finding(
                Severity.WARN,
                "neutral-all",
                f"{domain}: SPF ends in ?all (neutral), so unlisted hosts are not rejected",
                fix="end the record with ~all or -all",
            ),
        )
    if qual is None and not has_redirect:
        return (
            Finding(
                Severity.WARN,
                "no-all",
                f"{domain}: SPF has no all term and no redirect, so unlisted hosts get neutral",
                fix="end the record with ~all or -all",
            ),
        )
    return ()


def lookup_findings(
    domain: str, lookups: int | None, void: int | None, *, with_ours: bool
) -> tuple[Finding, ...]:
    """Findings for the DNS-lookup and void-lookup budgets (RFC 7208 §4.6.4)."""
    found: list[Finding] = []
    label = "with our include" if with_ours else "as published"
    if lookups is not None and lookups > MAX_LOOKUPS:
        found.append(
            Finding(
                Severity.FAIL,
                "too-many-lookups",
                f"{domain}: the SPF record {label} needs {lookups}/{MAX_LOOKUPS} DNS lookups; "
                "more than 10 is a permerror (RFC 7208 §4.6.4)",
                fix="drop includes of senders no longer used (the old provider), replace a/mx/"
                "ptr terms with ip4:/ip6: ranges",
            )
        )
    if void is not None and void > MAX_VOID_LOOKUPS:
        found.append(
            Finding(
                Severity.FAIL,
                "too-many-void-lookups",
                f"{domain}: the SPF record {label} has {void}/{MAX_VOID_LOOKUPS} void lookups "
                "(names with no answer); more than 2 is a permerror (RFC 7208 §4.6.4)",
                fix="remove a:/mx:/include: terms that point at names that no longer exist",
            )
        )
    elif void:
        found.append(
            Finding(
                Severity.WARN,
                "void-lookups",
                f"{domain}: the SPF record {label} has {void} void lookup(s) (names with no "
                f"answer); a third makes it a permerror",
                fix="remove a:/mx:/include: terms that point at names that no longer exist",
            )
        )
    return tuple(found)


def include_findings(
    domain: str,
    record: str,
    *,
    our_include: str,
    old_includes: dict[str, str],
    after_cutover: bool,
) -> tuple[Finding, ...]:
    """Findings for our include, old-provider includes and an ``mx`` term."""
    found: list[Finding] = []
    ours = our_include.lower().rstrip(".")
    if ours not in includes(record):
        found.append(
            Finding(
                Severity.FAIL,
                "missing-our-include",
                f"{domain}: the SPF record lacks include:{ours}, so mail we send for the "
                "domain fails SPF",
                fix=f"add include:{ours} before the all term",
            )
        )
    for target, why in old_includes.items():
        when = "still authorises" if after_cutover else "will keep authorising"
        found.append(
            Finding(
                Severity.WARN,
                "old-provider-include",
                f"{domain}: include:{target} ({why}) {when} the old provider's "
                "servers to send as the domain",
                fix=f"remove include:{target} once the last mail has left through the old "
                "provider" + ("" if after_cutover else " (after the cutover, not before)"),
            )
        )
    if after_cutover and any(t.name == "mx" and not t.modifier for t in parse_terms(record)):
        found.append(
            Finding(
                Severity.INFO,
                "mx-mechanism",
                f"{domain}: the SPF mx term now authorises the new inbound hosts, not the old "
                "servers; outbound mail is covered only by the include and ip terms",
                fix="check each outbound IP explicitly; replace mx with ip4:/ip6: if the old "
                "servers still send",
            )
        )
    return tuple(found)
