"""The verify flow on the lab: logins with counts, mail flow per domain, DNS checks folded
in, open issues named, the ``verification-<slug>`` report, and no secret anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cutover_customer import (
    LabCustomer,
    assert_no_secrets,
    make_customer,
    panel,
    publish_plan,
)
from support.flow_result import result_json
from support.prefect_api import latest_artifact
from typer.testing import CliRunner

from cli.main import app
from flows.verify import verify

pytestmark = pytest.mark.usefixtures("prefect_server")
__all__ = ["make_customer", "panel"]  # fixtures used by name


def test_verify_passes_then_names_a_broken_login(
    make_customer: Callable[..., LabCustomer],
) -> None:
    """A cut-over customer verifies clean; after one account's password changes on the
    hosted side, the report lists exactly that account as an open issue and the run fails."""
    c = make_customer(domains=2, routed_to_hosted=True)
    publish_plan(c)
    state = verify(spec_path=c.spec, return_state=True)
    data = result_json(state)
    assert state.is_completed(), json.dumps(data["open_issues"], indent=1)
    assert data["accounts"] == {
        "total": 4,
        "ok": 4,
        "failed": 0,
        "results": data["accounts"]["results"],
    }
    assert all(r["messages"] == 0 for r in data["accounts"]["results"])  # probes are removed
    assert [p["delivered"] for p in data["mail_flow"]] == [True, True]
    checks = {(r["domain"], r["check"]) for r in data["dns"]["results"]}
    assert checks == {(d, k) for d in c.domains for k in ("mx", "spf", "dkim", "dmarc")}

    broken = sorted(c.passwords)[0]
    c.lab.destination.set_account(broken, "a-different-password-1")
    result = CliRunner().invoke(app, ["verify", str(c.spec), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [(i["area"], i["subject"]) for i in report["open_issues"]] == [("login", broken)]
    assert "login refused" in report["open_issues"][0]["problem"]
    assert report["accounts"]["ok"] == 3
    found = latest_artifact(f"verification-{c.slug}")
    assert broken in found.data and "Open issues" in found.data
    folder = Path(report["run_folder"])
    assert broken in (folder / "open-issues.csv").read_text()
    assert_no_secrets(c, [state])


def test_verify_probes_every_alias_into_its_owner_mailbox(
    make_customer: Callable[..., LabCustomer],
) -> None:
    """Aliases from the user list, provisioned through the control panel, each get a probe
    that must arrive in the owner's INBOX; the report lists them and counts them."""
    c = make_customer(domains=1, routed_to_hosted=True, aliases=("sales", "info"))
    publish_plan(c)
    state = verify(spec_path=c.spec, return_state=True)
    data = result_json(state)
    assert state.is_completed(), json.dumps(data["open_issues"], indent=1)
    domain = c.domains[0]
    assert [(a["recipient"], a["delivered"]) for a in data["aliases"]] == [
        (f"sales@{domain}", True),
        (f"info@{domain}", True),
    ]
    assert "2/2 aliases" in data["summary"]
    assert all(r["messages"] == 0 for r in data["accounts"]["results"])  # probes removed


def test_verify_reports_a_wrong_autoconfig_file_and_writes_the_customer_report(
    make_customer: Callable[..., LabCustomer],
) -> None:
    """Thunderbird's lookup finds a file sending IMAP to the old provider: verify lists it as
    an open issue with the fix, while Outlook's lookup passes; the customer's report (MD,
    HTML, PDF; artifact ``onboarding-report-<slug>``) says what was done per user, that
    calendars, contacts and filters are not migrated, the open issue, the follow-up date and
    the support contacts; no secret anywhere."""
    from onboarding.clientconfig import ClientHosts, render_autoconfig

    c = make_customer(domains=1, routed_to_hosted=True)
    publish_plan(c)
    domain = c.domains[0]
    old = ClientHosts("imap.old-provider.test", f"smtp.{c.ours}", "x", "y")
    c.lab.clientconfig.publish(
        {
            f"autoconfig.{domain}/mail/config-v1.1.xml": render_autoconfig(
                domain, old, display_name="old"
            )
        }
    )
    state = verify(spec_path=c.spec, return_state=True)
    data = result_json(state)
    assert not state.is_completed()
    assert [(i["area"], i["subject"]) for i in data["open_issues"]] == [("autoconfig", domain)]
    issue = data["open_issues"][0]
    assert "imap.old-provider.test:993" in issue["problem"] and f"imap.{c.ours}" in issue["problem"]
    assert "onboard client-guides" in issue["fix"]
    lookups = {(r["client"], r["valid"]) for r in data["client_config"]}
    assert lookups == {("thunderbird", False), ("outlook", True)}

    report = Path(data["customer_report"])
    assert report.parent == Path(data["run_folder"])
    assert report.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
    md = report.read_text()
    for user in c.passwords:
        assert f"| `{user}` | exists | no migration asked | none | works |" in md
    assert "Calendars, contacts and mail filters (rules) are not migrated" in md
    assert "## Outstanding issues" in md and "imap.old-provider.test" in md
    assert "## Follow-up" in md and "support@mailroute.net" in md
    assert "sales@mailroute.net" in report.with_suffix(".html").read_text()
    assert "Outstanding issues" in latest_artifact(f"onboarding-report-{c.slug}").data
    assert_no_secrets(c, [state])
