"""The ``dns-check`` flow and command: fails with fixes before publishing, passes after, and
``--propagation`` reports per server with an ETA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.dns_customer import Customer, make_customer
from support.flow_result import result_json
from typer.testing import CliRunner

from cli.main import app
from flows.dns_check import dns_check
from flows.dns_plan import dns_plan
from lab import Lab
from lab.customer_dns import zone_text
from onboarding.dnscheck.query import Server, query_resolver
from onboarding.dnscheck.zonefile import txt_rdata

pytestmark = pytest.mark.usefixtures("prefect_server")


def _publish_plan(lab: Lab, c: Customer, *, ttl: int = 300) -> None:
    """Play the customer: publish every record the plan asks for."""
    state = dns_plan(spec_path=c.spec, return_state=True)
    (dom,) = result_json(state)["domains"]
    lines = [
        f"{x['name']}. {x['ttl']} IN {x['type']} "
        + (txt_rdata(x["value"]) if x["type"] == "TXT" else x["value"])
        for x in dom["changes"]
        if x["action"] in ("add", "keep")
    ]
    lab.dns.set_zone(c.domain, zone_text(c.domain, "\n".join(lines), ttl=ttl))


def test_checks_fail_before_publishing_and_pass_after(tmp_path: Path, lab: Lab) -> None:
    """Before the records are published MX and DKIM fail, each fail finding with its fix; after
    publishing MX and DKIM pass, SPF warns about the old include, DMARC reports alignment, and
    dns-check.md says so."""
    c = make_customer(tmp_path, lab)
    before = dns_check(spec_path=c.spec, return_state=True)
    assert before.is_failed()
    results = {r["check"]: r for r in result_json(before)["results"]}
    assert results["mx"]["status"] == "fail"
    assert results["dkim"]["status"] == "fail"  # the plan has not made a key yet
    assert all(f["fix"] for r in results.values() for f in r["findings"] if f["severity"] == "fail")

    # A fresh customer whose records the resolver has never seen, so no stale cache.
    (tmp_path / "second").mkdir()
    c = make_customer(tmp_path / "second", lab)
    _publish_plan(lab, c)
    after = dns_check(spec_path=c.spec, return_state=True)
    data = result_json(after)
    assert after.is_completed(), json.dumps(data, indent=1)
    results = {r["check"]: r for r in data["results"]}
    assert results["mx"]["status"] == "pass"
    assert results["dkim"]["status"] == "pass"
    assert results["spf"]["status"] == "warn"  # the old provider's include is still there
    assert "alignment" in {f["code"] for f in results["dmarc"]["findings"]}
    md = (Path(data["run_folder"]) / "dns-check.md").read_text()
    assert f"| {c.domain} | spf | warn |" in md


def test_propagation_reports_stale_resolver_with_eta_then_done(tmp_path: Path, lab: Lab) -> None:
    """Before the change no resolver is asked (not-probed); after it a resolver that cached the old
    MX is stale, the ETA is that cache's remaining TTL, and text and JSON both exit 1."""
    c = make_customer(tmp_path, lab)
    runner = CliRunner()
    # Before the change, propagation asks the resolver nothing (our MX is not published yet).
    early = runner.invoke(app, ["dns-check", str(c.spec), "--propagation", "--format", "json"])
    assert early.exit_code == 1, early.output
    states = {o["state"] for o in json.loads(early.stdout)["domains"][0]["observations"]}
    assert "stale" not in states and "not-probed" in states
    # Mail senders out in the world cache the old MX (TTL 1800) before the customer changes it.
    resolver = Server(*lab.dns.resolver_address)
    assert query_resolver(c.domain, "MX", resolver, timeout=2).ttl == 1800
    _publish_plan(lab, c)
    result = runner.invoke(app, ["dns-check", str(c.spec), "--propagation", "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False
    (dom,) = data["domains"]
    assert dom["published"] and dom["serials_equal"] and not dom["propagated"]
    stale = [o for o in dom["observations"] if o["state"] == "stale"]
    assert [(o["name"], o["type"]) for o in stale] == [(c.domain, "MX")]
    assert 1700 < data["eta_seconds"] <= 1800
    assert data["eta_seconds"] == dom["eta_seconds"] == stale[0]["ttl"]
    fresh = [o for o in dom["observations"] if o["role"] == "resolver" and o["state"] == "current"]
    assert {o["name"] for o in fresh} >= {f"_dmarc.{c.domain}", f"mr1._domainkey.{c.domain}"}

    text = runner.invoke(app, ["dns-check", str(c.spec), "--propagation"])
    assert text.exit_code == 1
    assert "not yet propagated" in text.stdout and "| stale |" in text.stdout


def test_propagation_done_when_nothing_was_cached(tmp_path: Path, lab: Lab) -> None:
    """Records published before any resolver cached the old ones are propagated at once: exit 0, ETA
    0 s."""
    c = make_customer(tmp_path, lab)
    _publish_plan(lab, c)
    result = CliRunner().invoke(app, ["dns-check", str(c.spec), "--propagation"])
    assert result.exit_code == 0, result.output
    assert "propagated" in result.stdout and "ETA: 0 s" in result.stdout
