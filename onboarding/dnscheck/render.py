"""Render a :class:`~onboarding.dnscheck.plan.DNSPlan` for people: markdown and a zone snippet.

The markdown is what the customer receives: one table per domain, records to remove first,
then records to add, each value in a code span so it copies cleanly. Long TXT values are shown
whole (DNS hosting panels take the whole value; the zone snippet carries the ≤255-byte split).
Neither output contains the DKIM private key.
"""

from __future__ import annotations

from collections.abc import Sequence

from onboarding.dnscheck.checks import CheckReport
from onboarding.dnscheck.plan import DNSPlan, DomainPlan
from onboarding.dnscheck.propagation import PropagationReport
from onboarding.dnscheck.results import Severity
from onboarding.dnscheck.zonefile import render_zone, split_txt, txt_rdata
from onboarding.reports import markdown_table

__all__ = [
    "render_checks_markdown",
    "render_markdown",
    "render_propagation_markdown",
    "render_zone_snippet",
]

_ICON = {Severity.FAIL: "❌", Severity.WARN: "⚠️", Severity.INFO: "ℹ️", Severity.PASS: "✅"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _relative(name: str, domain: str) -> str:
    if name == domain:
        return "@"
    return name.removesuffix("." + domain)


def _domain_md(plan: DomainPlan) -> list[str]:
    d = plan.domain
    lines = [f"## {d}", ""]
    if plan.mx_ttl is not None:
        wait = plan.cutover_wait_seconds or 0
        lines.append(
            f"Current MX TTL: **{plan.mx_ttl} s**. The cutover can start "
            f"{wait} s after the new MX records are live"
            + (
                f" (if you publish them now: {plan.earliest_cutover:%Y-%m-%d %H:%M UTC})."
                if plan.earliest_cutover
                else "."
            )
        )
    if plan.current.negative_ttl is not None:
        lines.append(
            f"New names (such as `_dmarc` or the DKIM key) are remembered as missing for up to "
            f"{plan.current.negative_ttl} s by any resolver that asks before they exist, so "
            "please do not test them before publishing."
        )
    lookups = "not counted" if plan.spf_lookups is None else f"{plan.spf_lookups}/10"
    lines += [f"SPF DNS lookups with our include: **{lookups}**.", ""]
    shown = sorted(
        (c for c in plan.changes if c.action != "keep"),
        key=lambda c: {"remove": 0, "add": 1}[c.action],
    )
    lines += markdown_table(
        ("Action", "Host", "Type", "TTL", "Value"),
        (
            (
                c.action.upper(),
                f"`{_cell(_relative(c.record.name, d))}`",
                c.record.rdtype,
                c.record.ttl,
                f"`{_cell(c.record.value)}`",
            )
            for c in shown
        ),
    )
    long_txt = [
        c.record
        for c in plan.changes
        if c.action == "add" and c.record.rdtype == "TXT" and len(split_txt(c.record.value)) > 1
    ]
    for r in long_txt:
        lines += [
            "",
            f"`{_relative(r.name, d)}` is longer than 255 characters. If your DNS host asks for "
            "quoted strings (Route 53, BIND), enter it as:",
            "",
            "```",
            txt_rdata(r.value),
            "```",
        ]
    kept = [c for c in plan.changes if c.action == "keep"]
    if kept:
        lines += [
            "",
            "Already correct, leave as is: "
            + ", ".join(f"`{_relative(c.record.name, d)} {c.record.rdtype}`" for c in kept)
            + ".",
        ]
    if plan.findings:
        lines += ["", "### Notes", ""]
        for f in plan.findings:
            fix = f" Fix: {f.fix}." if f.fix else ""
            lines.append(f"- {_ICON[f.severity]} {f.message}.{fix}")
    lines.append("")
    return lines


def render_markdown(plan: DNSPlan) -> str:
    """Return the customer-facing markdown: one table per domain, remove and add."""
    lines = [
        f"# DNS records for {plan.customer}",
        "",
        "For each domain below, first delete the records marked REMOVE, then create the ones "
        "marked ADD, exactly as shown (Host `@` means the domain itself). Tell us when you are "
        "done; we check propagation before moving any mail.",
        "",
    ]
    for d in plan.domains:
        lines += _domain_md(d)
    return "\n".join(lines)


def render_zone_snippet(plan: DNSPlan) -> str:
    """Return zone-file text with the records to publish, TXT split into ≤255-byte strings."""
    parts: list[str] = []
    for d in plan.domains:
        removes = [f"; remove: {r.zone_line()}" for r in d.to_remove]
        header = f"{d.domain}: records to publish (generated {plan.generated_at:%Y-%m-%dT%H:%MZ})"
        parts.append("\n".join(removes) + ("\n" if removes else ""))
        parts.append(render_zone(d.expected, header=header))
    return "\n".join(p for p in parts if p)


def render_checks_markdown(customer: str, report: CheckReport) -> str:
    """Return the ``dns-check`` result as markdown: one row per check, with the fix."""
    lines = [
        f"# DNS checks for {customer}: {report.status}",
        "",
        "| Domain | Check | Status | Finding | Fix |",
        "|---|---|---|---|---|",
    ]
    for r in report.results:
        if r.error is not None:
            lines.append(f"| {r.domain} | {r.check} | fail | {_cell(r.error)} | |")
            continue
        for f in r.findings:
            lines.append(
                f"| {r.domain} | {r.check} | {f.severity} | {_cell(f.message)} | {_cell(f.fix)} |"
            )
    return "\n".join(lines) + "\n"


def render_propagation_markdown(customer: str, reports: Sequence[PropagationReport]) -> str:
    """Return the propagation report: per server and record, with the ETA per domain."""
    lines = [f"# DNS propagation for {customer}", ""]
    for rep in reports:
        eta = "unknown" if rep.eta_seconds is None else f"{rep.eta_seconds} s"
        serials = ", ".join(f"{s}={v}" for s, v in rep.serials)
        lines += [
            f"## {rep.domain}: {'propagated' if rep.propagated else 'not yet propagated'}",
            "",
            f"SOA serials: {serials} ({'equal' if rep.serials_equal else 'DIFFERENT'}). "
            f"ETA: {eta}.",
            "",
        ]
        lines += markdown_table(
            ("Server", "Role", "Name", "Type", "State", "TTL", "Seen"),
            (
                (
                    o.server,
                    o.role,
                    o.name,
                    o.rdtype,
                    o.state,
                    "" if o.ttl is None else o.ttl,
                    _cell(o.error or ", ".join(o.records)),
                )
                for o in rep.observations
            ),
        )
        lines.append("")
    return "\n".join(lines)
