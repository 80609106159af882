"""The provision flow against the lab's control panel process and the lab's Dovecot.

Must show: a first run creates everything and every account logs in, and gives each
mailbox its aliases; a re-run sends no write request; a run killed midway and re-run ends
complete without duplicates; injected 500s/429s are retried; a permanent 400 fails only that
account; a wrong API key stops at once; an alias owned by another account is a conflict left
alone; no password appears in logs, artifacts, parameters, results or files.
"""

from __future__ import annotations

import base64
import csv
import imaplib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from support.flow_result import result_json
from support.panel import Endpoint, panel
from support.prefect_api import flow_run_texts, folder_texts, prefect_stored_texts
from typer.testing import CliRunner

from cli.main import app
from flows.provision import provision
from lab import Lab
from lab.controlpanel import database_path
from tasks.secrets import env_var_for

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["panel"]  # fixtures used by name


@dataclass
class Customer:
    spec: Path
    name: str
    slug: str
    domains: list[str]
    passwords: dict[str, str]
    output_dir: Path
    admin: httpx.Client
    runs: list[Any] = field(default_factory=list)

    @property
    def emails(self) -> list[str]:
        return list(self.passwords)

    def accounts(self) -> list[dict[str, Any]]:
        found = []
        for domain in self.domains:
            url = "/api/v1/email_account/"
            params: dict[str, Any] | None = {"domain__name": domain, "limit": 100}
            while url:
                page = self.admin.get(url, params=params).json()
                found += page["objects"]
                url, params = page["meta"]["next"], None
        return found

    def stats(self) -> dict[str, Any]:
        return dict(self.admin.get("/_lab/stats").json())

    def faults(self, *rules: dict[str, Any]) -> None:
        assert self.admin.post("/_lab/faults", json={"faults": list(rules)}).status_code == 200

    def fired(self) -> list[int]:
        return [r["fired"] for r in self.admin.get("/_lab/faults").json()["faults"]]


def _password(umlaut: bool = False) -> str:
    if umlaut:  # accepted by the validator; LOGIN cannot carry it (issue 13)
        return f"GrünerBaum-{secrets.token_hex(4)}ß"
    return f"Pw{secrets.token_hex(5)}!{secrets.token_hex(3)}Z"


@pytest.fixture
def make_customer(
    tmp_path: Path, lab: Lab, panel: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    clients: list[httpx.Client] = []

    def make(
        users: int = 6,
        *,
        accounts: str = "create",
        concurrency: int = 4,
        key: str | None = None,
        aliases: dict[int, str] | None = None,
        umlaut: bool = False,
    ) -> Customer:
        tag = secrets.token_hex(3)
        domains = [f"p{tag}a.test", f"p{tag}b.test"]
        passwords = {f"user{i:02d}x@{domains[i % 2]}": _password(umlaut) for i in range(users)}
        folder = tmp_path / f"cust-{tag}"
        folder.mkdir()
        with (folder / "users.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            if aliases is None:
                writer.writerow(["email", "password"])
                writer.writerows(passwords.items())
            else:  # user index -> the aliases cell, as a customer writes it
                writer.writerow(["email", "password", "aliases"])
                writer.writerows(
                    [e, pw, aliases.get(i, "")] for i, (e, pw) in enumerate(passwords.items())
                )
        secret_name = f"cp-key-{tag}"
        monkeypatch.setenv(env_var_for(secret_name), key or panel.api_key)
        spec = {
            "customer": f"Provision Test {tag}",
            "reseller": "Lab Reseller",
            "domains": [
                {
                    "name": d,
                    "mail_servers": [{"host": "127.0.0.1", "priority": 10}],
                    "delivery_port": lab.ports.source_lmtp,
                }
                for d in domains
            ],
            "users_csv": "users.csv",
            "accounts": accounts,
            "hosted": {
                "imap_host": "127.0.0.1",
                "imap_port": lab.ports.destination_imap,
                "imap_tls": "none",
            },
            "controlpanel": {
                "base_url": panel.url,
                "api_key_secret": secret_name,
                "concurrency": concurrency,
            },
            "output_dir": str(folder / "runs"),
        }
        (folder / "customer.yaml").write_text(yaml.safe_dump(spec))
        admin = httpx.Client(
            base_url=panel.url, headers={"Authorization": f"ApiKey {panel.api_key}"}, timeout=30
        )
        clients.append(admin)
        return Customer(
            folder / "customer.yaml",
            spec["customer"],
            f"provision-test-{tag}",
            domains,
            passwords,
            folder / "runs",
            admin,
        )

    yield make
    for c in clients:
        c.delete("/_lab/faults")
        c.close()


def _run(customer: Customer) -> tuple[Any, dict[str, Any]]:
    state = provision(spec_path=customer.spec, return_state=True)
    customer.runs.append(state)
    return state, result_json(state)


def _imap_login(lab: Lab, email: str, password: str) -> bool:
    conn = imaplib.IMAP4("127.0.0.1", lab.ports.destination_imap, timeout=10)
    try:
        conn.login(email, password)
        return True
    except imaplib.IMAP4.error:
        return False
    finally:
        conn.logout()


def test_first_run_creates_everything_and_every_account_logs_in(
    prefect_server: str, lab: Lab, make_customer: Any
) -> None:
    """A new customer: customer, domains, routing and every mailbox are created and work."""
    c: Customer = make_customer(users=8)
    state, data = _run(c)
    assert state.is_completed() and state.name == "Completed", state.message
    assert data["accounts"]["created"] == 8 and data["accounts"]["failed"] == 0
    assert data["accounts"]["logins_ok"] == 8 and data["accounts"]["reconciles"]
    kinds = [(o["kind"], o["result"]) for o in data["setup"]]
    assert kinds.count(("domain", "created")) == 2
    assert kinds.count(("mail_server", "created")) == 2
    assert ("customer", "created") in kinds

    customer = c.admin.get("/api/v1/customer/", params={"name": c.name}).json()["objects"]
    assert len(customer) == 1
    for name in c.domains:
        (domain,) = c.admin.get("/api/v1/domain/", params={"name": name}).json()["objects"]
        assert domain["customer"] == customer[0]["resource_uri"]
        assert domain["deliveryport"] == lab.ports.source_lmtp and domain["hold_email"] is False
        servers = c.admin.get("/api/v1/mail_server/", params={"domain": domain["id"]}).json()
        assert [(s["server"], s["priority"]) for s in servers["objects"]] == [("127.0.0.1", 10)]
        gateway = getattr(lab, "gateway", None)
        if gateway is not None and hasattr(gateway, "route"):
            assert gateway.route(name) == f"lmtp:inet:127.0.0.1:{lab.ports.source_lmtp}"
    assert sorted(f"{a['localpart']}@{a['domain_name']}" for a in c.accounts()) == sorted(c.emails)
    email, password = next(iter(c.passwords.items()))
    assert _imap_login(lab, email, password)  # independently of the flow's own proof
    assert not _imap_login(lab, email, password + "x")

    (folder,) = (c.output_dir / c.slug).iterdir()
    with (folder / "provisioning.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["email"]: (r["result"], r["imap_login"]) for r in rows} == {
        e: ("created", "ok") for e in c.emails
    }
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    keys = {a.key for a in artifacts}
    assert f"provisioning-{c.slug}" in keys and f"provisioning-summary-{c.slug}" in keys


def test_rerun_makes_no_write_request(prefect_server: str, make_customer: Any) -> None:
    """Idempotence: the second run only reads; every object 'already existed'."""
    c: Customer = make_customer(users=6)
    first, _ = _run(c)
    assert first.is_completed(), first.message
    c.admin.post("/_lab/stats")  # reset the request counters
    state, data = _run(c)
    assert state.is_completed() and state.name == "NothingToCreate", state.message
    stats = c.stats()
    assert stats["writes"] == 0, stats
    assert stats["requests"].get("GET", 0) > 0
    assert data["accounts"]["already existed"] == 6 and data["accounts"]["created"] == 0
    assert data["accounts"]["logins_ok"] == 6
    assert {o["result"] for o in data["setup"]} == {"already existed"}


def test_run_killed_midway_then_rerun_is_complete_without_duplicates(
    prefect_server: str, make_customer: Any
) -> None:
    """Crash safety: SIGKILL after some accounts; the re-run creates exactly the rest."""
    from prefect.settings import PREFECT_API_URL

    c: Customer = make_customer(users=24, concurrency=2)
    c.faults(
        {
            "kind": "latency",
            "seconds": 0.25,
            "method": "POST",
            "path_prefix": "/api/v1/email_account/",
        }
    )
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "provision", str(c.spec)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(c.accounts()) < 4:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no account was created in time"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = len(c.accounts())
    assert 4 <= before < 24, before
    c.admin.delete("/_lab/faults")

    state, data = _run(c)
    assert state.is_completed(), state.message
    accounts = c.accounts()
    addresses = [f"{a['localpart']}@{a['domain_name']}" for a in accounts]
    assert sorted(addresses) == sorted(c.emails)  # complete, and no address twice
    assert data["accounts"]["created"] + data["accounts"]["already existed"] == 24
    assert data["accounts"]["already existed"] >= before
    assert data["accounts"]["logins_ok"] == 24


def test_injected_500s_and_429s_are_retried_and_succeed(
    prefect_server: str, make_customer: Any
) -> None:
    """Transient faults: 3×500 and 2×429 (Retry-After: 1) on account creation are absorbed."""
    c: Customer = make_customer(users=6)
    c.faults(
        {
            "kind": "status",
            "status": 500,
            "count": 3,
            "method": "POST",
            "path_prefix": "/api/v1/email_account/",
        },
        {
            "kind": "status",
            "status": 429,
            "retry_after": 1,
            "count": 2,
            "method": "POST",
            "path_prefix": "/api/v1/email_account/",
        },
        {"kind": "drop", "count": 1, "method": "POST", "path_prefix": "/api/v1/email_account/"},
    )
    state, data = _run(c)
    assert state.is_completed(), state.message
    assert c.fired() == [3, 2, 1]
    assert data["accounts"]["created"] == 6 and data["accounts"]["logins_ok"] == 6
    assert sorted(f"{a['localpart']}@{a['domain_name']}" for a in c.accounts()) == sorted(c.emails)


def test_a_permanent_400_fails_only_that_account(prefect_server: str, make_customer: Any) -> None:
    """Per-account failure: one refused account fails with the reason; the rest succeed."""
    c: Customer = make_customer(users=6)
    bad = c.emails[3]
    c.faults(
        {
            "kind": "reject",
            "match": {"localpart": bad.split("@")[0]},
            "field": "localpart",
            "message": "This name is reserved.",
        }
    )
    state, data = _run(c)
    assert state.is_failed()
    assert "1 of 6 account(s) failed" in (state.message or "")
    assert data["failed"] == [
        {
            "email": bad,
            "reason": "the control panel refused it (400): localpart: This name is reserved.",
        }
    ]
    assert data["accounts"]["created"] == 5 and data["accounts"]["logins_ok"] == 5
    assert c.fired() == [1]  # refused once, never retried
    assert bad not in {f"{a['localpart']}@{a['domain_name']}" for a in c.accounts()}


def test_wrong_api_key_stops_at_once_with_a_clear_message(
    prefect_server: str, make_customer: Any
) -> None:
    """A rejected key stops before any change: one read, no write, exit code 2."""
    c: Customer = make_customer(users=3, key="lab-reseller:not-the-key")
    c.admin.post("/_lab/stats")
    result = CliRunner().invoke(app, ["provision", str(c.spec)])
    assert result.exit_code == 2, result.output
    assert "rejected the API key (401)" in result.output
    assert "Secret block" in result.output
    stats = c.stats()
    assert stats["writes"] == 0 and stats["total"] == 1, stats
    assert c.admin.get("/api/v1/customer/", params={"name": c.name}).json()["objects"] == []


def test_self_service_writes_instructions_and_creates_no_account(
    prefect_server: str, make_customer: Any
) -> None:
    """accounts: self_service → instructions (artifact + file), domains set up, no mailbox."""
    c: Customer = make_customer(users=4, accounts="self_service")
    state, data = _run(c)
    assert state.is_completed() and state.name == "SelfService", state.message
    assert c.accounts() == []
    assert "accounts" not in data
    (folder,) = (c.output_dir / c.slug).iterdir()
    text = (folder / "self-service-instructions.md").read_text()
    assert all(e in text for e in c.emails)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"self-service-{c.slug}"]))
        )
    assert len(artifacts) == 1 and c.emails[0] in str(artifacts[0].data)


def test_no_password_in_logs_artifacts_parameters_results_or_files(
    prefect_server: str,
    panel: Endpoint,
    make_customer: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Secrets: grep everything a run (and a failing run) wrote for the users' passwords."""
    caplog.set_level("DEBUG")
    c: Customer = make_customer(users=6)
    c.faults(
        {
            "kind": "reject",
            "match": {"localpart": c.emails[0].split("@")[0]},
            "field": "password",
            "message": "Rejected.",
        },
        {"kind": "status", "status": 500, "count": 2, "method": "POST"},
    )
    _run(c)
    c.admin.delete("/_lab/faults")
    _run(c)
    everything: list[str] = [caplog.text]
    for state in c.runs:
        everything += flow_run_texts(state.state_details.flow_run_id)
        everything.append(json.dumps(result_json(state), default=str))
        everything.append(state.message or "")
    assert any(c.emails[1] in text for text in everything), "the check must see the run output"
    everything += folder_texts(
        c.output_dir, Path(prefect_server), database_path(panel.state_dir).parent
    )
    everything += prefect_stored_texts()  # result storage (decoded) and the API's database
    for password in c.passwords.values():
        leaks = [text[:80] for text in everything if password in text]
        assert not leaks, f"a password leaked into: {leaks}"


def test_non_ascii_passwords_provision_log_in_and_leak_nowhere(
    prefect_server: str,
    make_customer: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 13: UTF-8 passwords are created, proven by login (AUTHENTICATE PLAIN), and no
    form of them is in anything the run wrote (logs, results, files, Prefect's storage)."""
    caplog.set_level("DEBUG")
    c: Customer = make_customer(users=3, umlaut=True)
    state, data = _run(c)
    assert state.is_completed() and state.name == "Completed", state.message
    assert data["accounts"]["created"] == 3 and data["accounts"]["logins_ok"] == 3
    everything: list[str] = [caplog.text, json.dumps(data, default=str), state.message or ""]
    everything += flow_run_texts(state.state_details.flow_run_id)
    everything += folder_texts(c.output_dir, Path(prefect_server))
    everything += prefect_stored_texts()  # result storage (decoded) and the API's database
    for email, password in c.passwords.items():
        plain = base64.b64encode(f"\0{email}\0{password}".encode()).decode()  # RFC 4616 wire
        forms = (password, repr(password)[1:-1], repr(password.encode())[2:-1], plain)
        leaks = [text[:80] for text in everything for f in forms if f in text]
        assert not leaks, f"a password leaked into: {leaks}"


def test_a_run_failing_with_an_exception_leaves_no_key_or_password_in_prefect(
    prefect_server: str, make_customer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Secrets: a provision run that dies with an exception (the key is refused) is persisted
    by Prefect as a failure whatever persist_result says; neither the key nor any password is
    in its logs, its result storage or its database."""
    caplog.set_level("DEBUG")
    wrong_key = f"lab-reseller:Wrong-{secrets.token_hex(8)}"
    c: Customer = make_customer(users=2, key=wrong_key, umlaut=True)
    state = provision(spec_path=c.spec, return_state=True)
    assert state.is_failed() or state.is_crashed()
    with pytest.raises(Exception, match="rejected the API key"):
        state.result()
    everything = [
        caplog.text,
        state.message or "",
        *flow_run_texts(state.state_details.flow_run_id),
    ]
    everything += prefect_stored_texts()
    assert any("AuthenticationFailed" in t for t in everything), "the scan must see the failure"
    for secret in (wrong_key, wrong_key.split(":")[1], *c.passwords.values()):
        leaks = [t[:80] for t in everything if secret in t]
        assert not leaks, f"a secret leaked into: {leaks}"


def test_domain_of_another_customer_is_a_conflict_the_run_reports(
    prefect_server: str, make_customer: Any
) -> None:
    """Conflict: a domain owned elsewhere is left alone, its accounts fail with the reason."""
    c: Customer = make_customer(users=4)
    reseller = c.admin.get("/api/v1/reseller/", params={"name": "Lab Reseller"}).json()
    other = c.admin.post(
        "/api/v1/customer/",
        json={
            "name": f"Owner {secrets.token_hex(3)}",
            "reseller": reseller["objects"][0]["resource_uri"],
        },
    ).json()
    c.admin.post("/api/v1/domain/", json={"name": c.domains[1], "customer": other["resource_uri"]})
    state, data = _run(c)
    assert state.is_failed()
    assert "1 conflict(s)" in (state.message or "") and "2 of 4 account(s) failed" in (
        state.message or ""
    )
    (conflict,) = [o for o in data["setup"] if o["result"] == "conflict"]
    assert conflict["name"] == c.domains[1] and "MailRoute support" in conflict["action"]
    assert {f["email"].split("@")[1] for f in data["failed"]} == {c.domains[1]}
    assert all("owned by another customer" in f["reason"] for f in data["failed"])
    assert data["accounts"]["created"] == 2 and data["accounts"]["logins_ok"] == 2
    (domain,) = c.admin.get("/api/v1/domain/", params={"name": c.domains[1]}).json()["objects"]
    assert domain["customer"] == other["resource_uri"]


def _aliases_field(c: Customer) -> dict[str, set[str]]:
    """Each account's aliases as the control panel reports them (its read-only field)."""
    return {
        f"{a['localpart']}@{a['domain_name']}": {x for x in a["aliases"].split(",") if x}
        for a in c.accounts()
    }


def _csv(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_aliases_are_created_then_a_rerun_writes_nothing(
    prefect_server: str, make_customer: Any
) -> None:
    """Aliases: the first run creates them (read back), the re-run only reads; CSV per alias."""
    c: Customer = make_customer(users=4, aliases={0: "sales; Info", 1: "billing", 2: "help"})
    e, (a, b) = c.emails, c.domains
    state, data = _run(c)
    assert state.is_completed() and state.name == "Completed", state.message
    assert "aliases: 4 created, 0 already existed" in (state.message or "")
    assert data["aliases"]["created"] == 4 and data["aliases"]["reconciles"]
    assert data["aliases"]["conflict"] == data["aliases"]["failed"] == 0
    expected = {e[0]: {"sales", "info"}, e[1]: {"billing"}, e[2]: {"help"}, e[3]: set()}
    assert _aliases_field(c) == expected

    (first,) = (c.output_dir / c.slug).iterdir()
    rows = _csv(first, "aliases.csv")
    assert [(r["alias"], r["account"], r["result"]) for r in rows] == [
        (f"sales@{a}", e[0], "created"),
        (f"info@{a}", e[0], "created"),
        (f"billing@{b}", e[1], "created"),
        (f"help@{a}", e[2], "created"),
    ]
    table = {r["email"]: r["aliases"] for r in _csv(first, "provisioning.csv")}
    assert table[e[0]] == "sales (created); info (created)" and table[e[3]] == ""
    text = (first / "aliases.csv").read_text() + (first / "summary.md").read_text()
    assert "## Aliases" in text
    assert not [pw for pw in c.passwords.values() if pw in text], "no password in the reports"

    c.admin.post("/_lab/stats")
    state, data = _run(c)
    assert state.is_completed() and state.name == "NothingToCreate", state.message
    assert c.stats()["writes"] == 0
    assert data["aliases"]["already existed"] == 4 and data["aliases"]["created"] == 0
    second = max((c.output_dir / c.slug).iterdir())
    assert {r["result"] for r in _csv(second, "aliases.csv")} == {"already existed"}
    assert _aliases_field(c) == expected


def test_alias_of_another_account_is_a_conflict_left_alone(
    prefect_server: str, make_customer: Any
) -> None:
    """Conflict: an alias that delivers to another account is reported, never moved; run fails."""
    c: Customer = make_customer(users=2, aliases={0: "sales info"})
    domain = c.domains[0]
    port = yaml.safe_load(c.spec.read_text())["domains"][0]["delivery_port"]
    reseller = c.admin.get("/api/v1/reseller/", params={"name": "Lab Reseller"}).json()
    customer = c.admin.post(
        "/api/v1/customer/",
        json={"name": c.name, "reseller": reseller["objects"][0]["resource_uri"]},
    ).json()
    d = c.admin.post(
        "/api/v1/domain/",
        json={"name": domain, "customer": customer["resource_uri"], "deliveryport": port},
    ).json()
    other = c.admin.post(
        "/api/v1/email_account/",
        json={"domain": d["resource_uri"], "localpart": "frontdesk", "create_opt": "generate_pwd"},
    ).json()
    c.admin.post(
        "/api/v1/localpart_alias/",
        json={"email_account": other["resource_uri"], "localpart": "sales"},
    ).raise_for_status()

    state, data = _run(c)
    assert state.is_failed()
    assert state.message.startswith("1 alias conflict(s) (see provisioning-"), state.message
    (problem,) = data["alias_problems"]
    assert problem["alias"] == f"sales@{domain}" and problem["result"] == "conflict"
    assert f"frontdesk@{domain}" in problem["reason"]
    assert "never moves" in problem["action"]
    assert data["aliases"]["created"] == 1 and data["accounts"]["created"] == 2
    owners = _aliases_field(c)
    assert owners[f"frontdesk@{domain}"] == {"sales"}, "the conflicting alias was not moved"
    assert owners[c.emails[0]] == {"info"}
    (folder,) = (c.output_dir / c.slug).iterdir()
    rows = {r["alias"]: r for r in _csv(folder, "aliases.csv")}
    assert rows[f"sales@{domain}"]["result"] == "conflict"
    assert rows[f"sales@{domain}"]["action"] == problem["action"]


def test_self_service_creates_no_alias(prefect_server: str, make_customer: Any) -> None:
    """Self-service: no mailbox is created, so no alias either; the report has no alias part,
    and the instructions tell the user which aliases to add themselves."""
    c: Customer = make_customer(users=2, accounts="self_service", aliases={0: "sales"})
    state, data = _run(c)
    assert state.is_completed() and state.name == "SelfService", state.message
    assert c.accounts() == [] and "aliases" not in data
    (folder,) = (c.output_dir / c.slug).iterdir()
    assert not (folder / "aliases.csv").exists()
    text = (folder / "self-service-instructions.md").read_text()
    assert "(aliases: sales@" in text and "**Aliases** tab" in text
