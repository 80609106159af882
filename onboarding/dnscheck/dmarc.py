"""DMARC (RFC 7489, RFC 9989): the record we propose, and whether our mail can pass.

We emit ``v=DMARC1; p=<policy>; rua=<uri>`` only: ``p`` second, no ``pct``/``rf``/``ri``
(removed by RFC 9989), no ``!size``, so both generations of receivers accept it
(reference dns.md §3.3). Our mail passes DMARC when DKIM passes with ``d=<domain>`` (aligned
under relaxed and strict) or SPF passes for an envelope sender in the domain.
"""

from __future__ import annotations

import re

import checkdmarc.dmarc
import dns.exception
import dns.resolver

from onboarding.dnscheck._exceptions import translate
from onboarding.dnscheck._scope import checkdmarc_scope
from onboarding.dnscheck.results import CheckResult, Finding, Severity

__all__ = [
    "alignment_findings",
    "build_dmarc",
    "check_dmarc",
    "is_dmarc_record",
    "parse_tags",
    "policy_findings",
    "report_authorization_name",
]

_STRENGTH = {"none": 0, "quarantine": 1, "reject": 2}
_REMOVED_IN_9989 = ("pct", "rf", "ri")


def is_dmarc_record(text: str) -> bool:
    """Return True for a TXT value that starts with ``v=DMARC1`` (case-sensitive, §6.4)."""
    return re.match(r"^v=DMARC1[ \t]*(;|$)", text) is not None


def parse_tags(record: str) -> dict[str, str]:
    """Return ``{tag: value}`` of a DMARC record (tags lowercased, values stripped)."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


def build_dmarc(policy: str, rua: str | None, *, existing: str | None = None) -> str:
    """Return the record to publish; an existing stricter ``p`` is kept, never weakened.

    ``build_dmarc("none", "mailto:d@acme.test")`` → ``"v=DMARC1; p=none; rua=mailto:d@acme.test"``.
    """
    if policy not in _STRENGTH:
        raise ValueError(f"DMARC policy must be none, quarantine or reject, got {policy!r}")
    current = parse_tags(existing).get("p", "") if existing else ""
    if _STRENGTH.get(current, -1) > _STRENGTH[policy]:
        policy = current
    parts = ["v=DMARC1", f"p={policy}"]
    if rua:
        parts.append(f"rua={rua}")
    return "; ".join(parts)


def report_authorization_name(domain: str, rua: str | None) -> str | None:
    """Return ``<domain>._report._dmarc.<dest>`` when ``rua`` reports go to another domain."""
    if not rua:
        return None
    dest = rua.removeprefix("mailto:").partition("@")[2].partition("!")[0].lower()
    if not dest or dest == domain or dest.endswith("." + domain):
        return None
    return f"{domain}._report._dmarc.{dest}"


def policy_findings(domain: str, record: str | None) -> tuple[Finding, ...]:
    """Findings on an existing record before cutover: enforcement that would hit our mail."""
    if record is None:
        return ()
    tags = parse_tags(record)
    found: list[Finding] = []
    p = tags.get("p", "none")
    if p in ("quarantine", "reject"):
        found.append(
            Finding(
                Severity.WARN,
                "policy-rejects-unaligned",
                f"{domain}: DMARC p={p} will {p} mail we send for the domain until our DKIM key "
                "or SPF include is published and aligned",
                fix="publish the DKIM and SPF records first and check them with "
                "`onboard dns-check`, before any mail is sent through us",
            )
        )
    removed = [t for t in _REMOVED_IN_9989 if t in tags]
    if removed:
        found.append(
            Finding(
                Severity.WARN,
                "removed-tags",
                f"{domain}: DMARC uses {', '.join(removed)}, removed by RFC 9989"
                + (
                    f"; pct={tags['pct']} applies the policy to only part of the mail"
                    if "pct" in tags and tags["pct"] != "100"
                    else ""
                ),
                fix="publish the record from the DNS plan (no pct, rf or ri)",
            )
        )
    return tuple(found)


def alignment_findings(domain: str, *, dkim_ok: bool, spf_ok: bool) -> tuple[Finding, ...]:
    """Whether our mail can pass DMARC: needs aligned DKIM (``d=<domain>``) or aligned SPF."""
    if dkim_ok or spf_ok:
        via = " and ".join(n for n, ok in (("DKIM", dkim_ok), ("SPF", spf_ok)) if ok)
        return (Finding(Severity.PASS, "alignment", f"{domain}: our mail can align via {via}"),)
    return (
        Finding(
            Severity.FAIL,
            "alignment-impossible",
            f"{domain}: neither our DKIM key nor our SPF include is in place, so mail we send "
            "cannot pass DMARC (RFC 7489 §3.1)",
            fix="publish the DKIM and SPF records from the DNS plan",
        ),
    )


def check_dmarc(
    domain: str,
    *,
    resolver: dns.resolver.Resolver,
    timeout: float,
    dkim_ok: bool,
    spf_ok: bool,
) -> CheckResult:
    """Validate the published record with checkdmarc and check alignment. Never raises.

    The record must be at ``_dmarc.<domain>`` itself (the plan puts it there): a policy found
    only by walking up the tree (RFC 9989 §4.10) is not the one we asked the customer for.
    """
    name = f"_dmarc.{domain}"
    try:
        own = resolver.resolve(name, "TXT", lifetime=timeout, raise_on_no_answer=False)
        own_records = (
            [b"".join(rd.strings).decode("utf-8", "replace") for rd in own.rrset]
            if own.rrset is not None
            else []
        )
    except dns.resolver.NXDOMAIN:
        own_records = []
    except dns.exception.DNSException as exc:
        return CheckResult("dmarc", domain, error=str(translate(exc, what=f"TXT of {name}")))
    if not any(is_dmarc_record(r) for r in own_records):
        missing = [
            Finding(
                Severity.FAIL,
                "no-record",
                f"{domain}: no DMARC record at {name}",
                fix=f"publish the DMARC record from the DNS plan at {name}",
            ),
            *alignment_findings(domain, dkim_ok=dkim_ok, spf_ok=spf_ok),
        ]
        return CheckResult("dmarc", domain, tuple(missing))
    try:
        with checkdmarc_scope():
            res = checkdmarc.dmarc.check_dmarc(
                domain, resolver=resolver, timeout=timeout, retries=0
            )
    except Exception as exc:  # checkdmarc may leak dnspython/socket errors; fold them in
        return CheckResult("dmarc", domain, error=f"{domain}: DMARC lookup failed: {exc}")
    record = res.get("record")
    findings: list[Finding] = []
    if not res.get("valid"):
        findings.append(
            Finding(
                Severity.FAIL,
                "invalid",
                f"{domain}: {res.get('error')}",
                fix="publish the DMARC record from the DNS plan at _dmarc." + domain,
            )
        )
    ours = (
        [f for f in policy_findings(domain, record) if f.code == "removed-tags"] if record else []
    )
    findings.extend(
        Finding(
            Severity.WARN,
            "checkdmarc",
            f"{domain}: {w}",
            fix="publish the DMARC record from the DNS plan",
        )
        for w in res.get("warnings", [])
        if not (ours and "RFC 9989" in w)  # our removed-tags finding says it with the fix
    )
    findings.extend(ours)
    findings.extend(alignment_findings(domain, dkim_ok=dkim_ok, spf_ok=spf_ok))
    return CheckResult("dmarc", domain, tuple(findings), record=record)
