"""Customer-facing documents: HTML autoescapes what the customer supplied, and the guide and
the final report render in headless Chromium with every section (screenshot and DOM)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.chromium import distinct_colours, dump_dom, png_size, screenshot

from onboarding.clientconfig import GUIDE_SECTIONS, guide_document
from onboarding.customer_report import REPORT_SECTIONS, ReportSources, customer_report
from onboarding.documents import (
    Document,
    Section,
    SupportContacts,
    render_html,
    render_markdown,
)
from tasks.adapters import guide_inputs, support_contacts
from validation.spec import load_spec
from validation.users import load_user_list

ACME = Path(__file__).resolve().parents[2] / "examples" / "acme" / "customer.yaml"


def _example_guide() -> Document:
    spec = load_spec(ACME)
    report, _ = load_user_list(spec, None)
    return guide_document(guide_inputs(spec, report.users))


def _example_report() -> Document:
    """A report like the example's after a verify with one open issue and one failed item."""
    spec = load_spec(ACME)
    verify = {
        "checked_at": "2026-12-01T10:00:00+00:00",
        "followup": False,
        "summary": "2/2 accounts log in; mail flows to 2/2 domains; 1 open issue(s)",
        "accounts": {"results": [{"email": "alice.adams@acme.test", "ok": True},
                                 {"email": "bob.baker@acme.test", "ok": True}]},
        "mail_flow": [{"domain": "acme.test", "delivered": True},
                      {"domain": "acme-mail.test", "delivered": True}],
        "dns": {"results": [{"domain": "acme.test", "check": "mx", "status": "pass"}]},
        "client_config": [{"domain": "acme.test", "valid": False}],
        "open_issues": [{"area": "autoconfig", "subject": "acme.test",
                         "problem": "not published (HTTP 404)", "fix": "publish it"}],
    }  # fmt: skip
    migrate = {
        "mailboxes": [{"mailbox": "alice.adams@acme.test", "copied": 40, "already_present": 2,
                       "failed": 1, "skipped": 0}],
        "failed_transfers": [{"mailbox": "alice.adams@acme.test", "folder": "INBOX",
                              "message_id": "<m1@x>", "outcome": "failed",
                              "reason": "too big", "fix": "forward it by hand"}],
    }  # fmt: skip
    provision = {
        "account_rows": [{"email": "alice.adams@acme.test", "result": "created"},
                         {"email": "bob.baker@acme.test", "result": "created"}],
        "alias_rows": [{"alias": "sales@acme.test", "account": "alice.adams@acme.test",
                        "result": "created"}],
    }  # fmt: skip
    return customer_report(
        ReportSources(
            customer=spec.customer,
            domains=spec.domain_names,
            verify=verify,
            support=support_contacts(spec),
            followup_hours=48,
            provision=provision,
            migrate=migrate,
        )
    )


def test_html_escapes_customer_text_and_marks_code() -> None:
    """A customer name with markup is shown as text in HTML; backtick spans become <code>."""
    doc = Document(
        "For <script>x</script>",
        "host `a<b`",
        (Section("S", "s", paragraphs=("& `c`",)),),
        SupportContacts(),
    )
    html = render_html(doc)
    assert "<script>x" not in html and "For &lt;script&gt;x&lt;/script&gt;" in html
    assert "<code>a&lt;b</code>" in html and "&amp; <code>c</code>" in html
    assert render_markdown(doc).startswith("# For <script>x</script>\n")


def test_the_report_says_what_was_done_not_done_and_open() -> None:
    """Per user: mailbox, messages now hosted, aliases; the failed item with its fix; plainly
    that calendars, contacts and filters are not migrated; the open issue; follow-up date."""
    md = render_markdown(_example_report())
    assert (
        "| `alice.adams@acme.test` | created | 42 (1 failed, 0 skipped) | `sales@acme.test` |" in md
    )
    assert "too big. Fix: forward it by hand" in md
    assert "Calendars, contacts and mail filters (rules) are not migrated" in md
    assert "| autoconfig | `acme.test` | not published (HTTP 404) | publish it |" in md
    assert "2026-12-03 10:00 UTC" in md  # checked_at + 48 h
    assert "support@mailroute.net" in md and "sales@mailroute.net" in md


@pytest.mark.parametrize(
    ("name", "build", "sections"),
    [("guide", _example_guide, GUIDE_SECTIONS), ("report", _example_report, REPORT_SECTIONS)],
)
def test_headless_chromium_renders_every_section(
    tmp_path: Path, name: str, build: object, sections: tuple[str, ...]
) -> None:
    """The HTML renders in Chromium: a 1280×1600 PNG that is not blank (many colours: text,
    headings, table shading), and the rendered DOM has every section and its heading, and
    the support contacts."""
    assert callable(build)
    page = tmp_path / f"{name}.html"
    page.write_text(render_html(build()), encoding="utf-8")
    png = screenshot(page, tmp_path / f"{name}.png").read_bytes()
    assert png_size(png) == (1280, 1600)
    assert len(png) > 20_000
    assert distinct_colours(png) > 50
    dom = dump_dom(page)
    for section in (*sections, "support"):
        match = re.search(rf'<(section|footer) id="{section}"[^>]*>\s*<h2>([^<]+)</h2>', dom)
        assert match, f"section {section} missing from the rendered page"
    assert "support@mailroute.net" in dom and "sales@mailroute.net" in dom
