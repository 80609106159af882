"""The ``dns-plan`` flow and command on the lab DNS: artifact, run folder, DKIM key handling."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from support.dns_customer import make_customer
from support.flow_result import result_json
from support.prefect_api import flow_run_texts, latest_artifact
from typer.testing import CliRunner

from cli.main import app
from flows.dns_plan import dns_plan
from flows.results import result_of
from lab import Lab
from lab.customer_dns import planned_records, publish_records
from onboarding.dnscheck import DKIMKeyError
from onboarding.dnscheck.dkim import generate_private_key, load_key, stored_key_value
from tasks.adapters import dkim_block_name, legacy_dkim_block_name
from tasks.secrets import env_var_for, load_secret

pytestmark = pytest.mark.usefixtures("prefect_server")


def _private_key_lines(domain: str, selector: str = "mr1") -> list[str]:
    value = load_secret(dkim_block_name(domain, selector))
    stored = json.loads(value)  # the key names its domain and selector (issue 13)
    assert (stored["domain"], stored["selector"]) == (domain, selector)
    pem = stored["private_key_pem"]
    assert "PRIVATE KEY" in pem
    return [line for line in pem.splitlines() if line and "-----" not in line]


def test_plan_publishes_the_records_artifact_and_run_folder(tmp_path: Path, lab: Lab) -> None:
    """The plan gives the MX TTL, the 2×TTL wait and one merged SPF record; the dns-records
    artifact lists what to remove and add, and the run folder holds exactly the JSON, Markdown
    and zone file."""
    c = make_customer(tmp_path, lab)
    state = dns_plan(spec_path=c.spec, return_state=True)
    assert state.is_completed(), state.message
    data = result_json(state)
    (dom,) = data["domains"]
    assert dom["mx_ttl"] == 1800 and dom["cutover_wait_seconds"] == 3600
    assert dom["spf_record"] == f"v=spf1 include:old.{c.ours} include:spf.{c.ours} ~all"
    assert dom["spf_lookups"] == 2
    assert {f["code"] for f in dom["findings"]} >= {"policy-rejects-unaligned"}

    artifact = latest_artifact(f"dns-records-{c.slug}")
    assert f"## {c.domain}" in artifact.data
    assert f"| REMOVE | `@` | MX | 3600 | `10 mx1.old.{c.ours}.` |" in artifact.data
    assert f"| ADD | `@` | MX | 3600 | `10 mail.{c.ours}.` |" in artifact.data

    folder = Path(data["run_folder"])
    assert folder.parent == c.output_dir / c.slug and folder.name.endswith("-dns-plan")
    assert sorted(p.name for p in folder.iterdir()) == [
        "dns-plan.json",
        "dns-records.md",
        "dns-records.zone",
    ]
    zone = (folder / "dns-records.zone").read_text()
    assert f"mr1._domainkey.{c.domain}. 3600 IN TXT " in zone


def test_rerun_reuses_the_stored_dkim_key_and_no_output_holds_it(tmp_path: Path, lab: Lab) -> None:
    """The key is made once, kept in a Secret block, and never appears in anything the runs
    wrote: artifacts, run folders, flow parameters, logs or results."""
    c = make_customer(tmp_path, lab)
    first = dns_plan(spec_path=c.spec, return_state=True)
    record = result_json(first)["domains"][0]["changes"]
    dkim_first = next(x["value"] for x in record if x["name"].startswith("mr1._domainkey"))
    key_lines = _private_key_lines(c.domain)
    second = dns_plan(spec_path=c.spec, return_state=True)
    changes = result_json(second)["domains"][0]["changes"]
    assert next(x["value"] for x in changes if x["name"].startswith("mr1._domainkey")) == (
        dkim_first
    )
    assert result_json(second)["domains"][0]["dkim"]["reused"] is True
    assert _private_key_lines(c.domain) == key_lines

    everything = [json.dumps(result_json(first)), json.dumps(result_json(second))]
    for state in (first, second):
        everything += flow_run_texts(state.state_details.flow_run_id)  # type: ignore[arg-type]
    with get_client(sync_client=True) as client:
        everything += [json.dumps(a.model_dump(mode="json")) for a in client.read_artifacts()]
    for root, _dirs, files in os.walk(c.output_dir):
        everything += [(Path(root) / n).read_text(encoding="utf-8") for n in files]
    assert any(dkim_first in text for text in everything), "the scan must see the public key"
    for line in key_lines[:3] + key_lines[-3:]:
        assert not [t[:60] for t in everything if line in t], "the DKIM private key leaked"


def test_a_key_under_the_old_block_name_is_kept_and_moved_to_the_new_one(
    tmp_path: Path, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: a customer whose key sits under the old (colliding) block name keeps it: the
    plan reuses it, publishes the same record, and saves it under the new name with its
    domain; a block holding another domain's key fails the run with one sentence."""
    c = make_customer(tmp_path, lab)
    pem = generate_private_key(1024)
    monkeypatch.setenv(env_var_for(legacy_dkim_block_name(c.domain, "mr1")), pem.get_secret_value())
    state = dns_plan(spec_path=c.spec, return_state=True)
    assert state.is_completed(), state.message
    dom = result_json(state)["domains"][0]
    assert dom["dkim"]["reused"] is True
    published = load_key(c.domain, "mr1", pem).record
    assert any(x["value"] == published for x in dom["changes"])
    pem_lines = [line for line in pem.get_secret_value().splitlines() if "-----" not in line]
    assert _private_key_lines(c.domain) == pem_lines

    (tmp_path / "other").mkdir()
    other = make_customer(tmp_path / "other", lab)
    monkeypatch.setenv(
        env_var_for(dkim_block_name(other.domain, "mr1")),
        stored_key_value(c.domain, "mr1", pem),
    )
    failed = dns_plan(spec_path=other.spec, return_state=True)
    assert not failed.is_completed()
    with pytest.raises(DKIMKeyError, match=re.escape(f"holds the key of {c.domain}")):
        failed.result()


def test_cli_text_and_json(tmp_path: Path, lab: Lab) -> None:
    """``onboard dns-plan`` prints the records in text and as JSON (ok, one domain) and exits 0; no
    output holds the private key."""
    c = make_customer(tmp_path, lab)
    text = CliRunner().invoke(app, ["dns-plan", str(c.spec)])
    assert text.exit_code == 0, text.output
    assert "# DNS records for Lab Customer" in text.stdout
    assert "Zone-file snippet: " in text.stdout
    as_json = CliRunner().invoke(app, ["dns-plan", str(c.spec), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["ok"] is True and "1 domain(s)" in data["message"]
    assert data["domains"][0]["domain"] == c.domain
    assert "PRIVATE" not in as_json.stdout


def test_cli_unreadable_dns_is_one_clear_sentence_within_bounded_time(
    tmp_path: Path, lab: Lab
) -> None:
    """A dead nameserver: exit 2, `error: ...` naming the server, within the time budget."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
        dead.bind(("127.0.0.1", 0))
        port = dead.getsockname()[1]
        c = make_customer(tmp_path, lab, nameservers=[f"127.0.0.1:{port}"], timeout_seconds=1)
        started = time.monotonic()
        result = CliRunner().invoke(app, ["dns-plan", str(c.spec)])
    assert result.exit_code == 2, result.output
    assert "no answer within 1 s" in result.output and f"127.0.0.1:{port}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    # Bounded by configuration, not by this machine's speed: the temporary Prefect server's
    # startup timeout, plus the spec's 1 s per DNS query for the few queries a plan makes.
    startup = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    assert time.monotonic() - started < startup + 10 * 1.0
    missing = CliRunner().invoke(app, ["dns-plan", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def _blocks() -> set[str]:
    with get_client(sync_client=True) as client:
        return {b.name for b in client.read_block_documents() if b.name}


def test_a_spec_naming_the_team_server_refuses_secrets_on_another(tmp_path: Path, lab: Lab) -> None:
    """Issue 11: the spec names the team's Prefect API; on any other server (this one) the
    plan neither reads nor creates the DKIM key there, and says both URLs in one sentence."""
    from prefect.settings import PREFECT_API_URL

    c = make_customer(tmp_path, lab)
    data = yaml.safe_load(c.spec.read_text())
    team = "https://prefect.team.example/api"
    c.spec.write_text(yaml.safe_dump(data | {"prefect": {"api_url": team}}))
    before = _blocks()
    state = dns_plan(spec_path=c.spec, return_state=True)
    error = str(result_of(state))
    assert state.is_failed()
    assert f"on {PREFECT_API_URL.value()}" in error and f"team Prefect server {team}" in error
    assert _blocks() == before, "a key was created on the wrong server"


def test_a_published_key_missing_from_the_server_says_where_it_should_be(
    tmp_path: Path, lab: Lab
) -> None:
    """Issue 11: our key is published but its Secret block is not on this server: the plan
    fails naming the block and the server, and does not tell the customer to replace the
    published record (nor make a new key)."""
    c = make_customer(tmp_path, lab)
    first = dns_plan(spec_path=c.spec, return_state=True)
    for domain, records in planned_records(result_json(first)).items():
        publish_records(lab.dns, domain, records, ttl=60)
    block = dkim_block_name(c.domain, "mr1")
    with get_client(sync_client=True) as client:
        client.delete_block_document(client.read_block_document_by_name(block, "secret").id)
    state = dns_plan(spec_path=c.spec, return_state=True)
    error = str(result_of(state))
    assert state.is_failed()
    assert f"it should have been there ({c.domain}: Secret block {block})" in error, error
    assert "do not ask the customer to replace the published record" in error
    assert block not in _blocks()
