"""A customer on the lab for the cutover, verify and onboard flow tests (tests/flows).

Builds a spec whose domains the lab control panel routes to the lab's "old" server (source
Dovecot LMTP) through the gateway, users on the source and (via the control panel) on the
hosted side, and the customer's DNS zone in the lab NSD, with small TTLs so the 2×TTL wait
takes seconds. ``publish_plan`` plays the customer publishing what ``dns-plan`` asked for.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
)

from flows.dns_plan import dns_plan
from lab import Lab
from lab.customer_dns import planned_records, publish_records, zone_text
from onboarding.clientconfig import site_files
from onboarding.controlpanel import (
    ControlPanelClient,
    provision_accounts,
    provision_aliases,
    set_up_customer,
)
from support.customer_files import SpecFiles, write_customer_files
from support.delivery import inbox_subjects, send
from support.dns_customer import hosted, lab_dns, publish_provider_zone
from support.flow_result import result_json
from support.panel import Endpoint
from support.panel import panel as panel  # the fixture, re-exported for the flow tests
from support.poll import until as until  # re-exported for the flow tests
from support.prefect_api import flow_run_texts
from tasks.adapters import client_hosts, customer_domains
from tasks.secrets import env_var_for
from validation.spec import load_spec
from validation.users import read_user_credentials


@dataclass(frozen=True)
class LabCustomer(SpecFiles):
    domains: list[str]
    ours: str
    passwords: dict[str, str]  # hosted password per address
    source_passwords: dict[str, str]
    admin: httpx.Client
    lab: Lab
    ttl: int

    def send(self, to: str, subject: str) -> None:
        send(self.lab.ports.gateway_smtp, to, subject, sender="someone@example.test")

    def subjects(self, email: str, *, hosted: bool = True) -> list[str]:
        port = self.lab.ports.destination_imap if hosted else self.lab.ports.source_imap
        password = self.passwords[email] if hosted else self.source_passwords[email]
        return inbox_subjects(port, email, password)

    def append_to_old(self, email: str, subject: str, *, size: int = 0) -> None:
        """Put a message straight into the old mailbox (the old provider's own delivery)."""
        from imapclient import IMAPClient

        body = b"x" * size
        message = (
            (
                f"From: someone@example.test\r\nTo: {email}\r\nSubject: {subject}\r\n"
                f"Message-ID: <{secrets.token_hex(8)}@old.test>\r\n\r\n"
            ).encode()
            + body
            + b"\r\n"
        )
        port = self.lab.ports.source_imap
        with IMAPClient("127.0.0.1", port=port, ssl=False, timeout=30) as imap:
            imap.login(email, self.source_passwords[email])
            imap.append("INBOX", message)

    def stats(self) -> dict[str, Any]:
        return dict(self.admin.get("/_lab/stats").json())

    def reset_stats(self) -> None:
        assert self.admin.delete("/_lab/stats").status_code in (200, 204)

    def domain(self, name: str) -> dict[str, Any]:
        (found,) = self.admin.get("/api/v1/domain/", params={"name": name}).json()["objects"]
        return dict(found)

    def ledger(self) -> dict[str, Any]:
        return dict(json.loads((self.customer_dir / "cutover-ledger.json").read_text()))

    def secrets(self) -> list[str]:
        return [*self.passwords.values(), *self.source_passwords.values()]


def _password() -> str:
    return f"Pw{secrets.token_hex(5)}!{secrets.token_hex(3)}Z"


@pytest.fixture
def make_customer(
    tmp_path: Path, lab: Lab, panel: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., LabCustomer]]:
    """Factory: ``make_customer(domains=1, users=2, ttl=1, migration=False, ...)``."""
    made: list[LabCustomer] = []

    def make(
        *,
        domains: int = 1,
        users: int = 2,
        ttl: int = 1,
        migration: bool = False,
        require_approval: bool = False,
        routed_to_hosted: bool = False,
        provisioned: bool = True,
        aliases: Sequence[str] = (),
        notices: dict[str, Any] | None = None,
        new_domains: int = 0,
        migration_settings: dict[str, Any] | None = None,
    ) -> LabCustomer:
        tag = secrets.token_hex(3)
        ours = f"mr{tag}.test"
        names = [f"k{tag}{i}.test" for i in range(domains)]
        fresh = [f"n{tag}{i}.test" for i in range(new_domains)]  # no mail yet
        emails = [f"user{j}@{names[j % domains]}" for j in range(users * domains)]
        emails += [f"new{j}@{fresh[j % new_domains]}" for j in range(users * new_domains)]
        passwords = {e: _password() for e in emails}
        source_passwords = {e: "src-" + secrets.token_urlsafe(10) for e in emails}
        for e in emails:
            if e.rsplit("@", 1)[1] in names:  # a new domain's users have no old mailbox
                lab.source.add_user(e, source_passwords[e])
        folder = tmp_path / f"c-{tag}"
        folder.mkdir()
        users = [["email", "password", "aliases"]]
        for i, (email, password) in enumerate(passwords.items()):
            users.append([email, password, " ".join(aliases) if i == 0 else ""])
        key_name, master_name = f"cp-{tag}", f"src-{tag}"
        monkeypatch.setenv(env_var_for(key_name), panel.api_key)
        monkeypatch.setenv(env_var_for(master_name), lab.source.master_password)
        monkeypatch.setenv(
            env_var_for("mailroute-notices"), lab.secret_env()["ONBOARD_SECRET_MAILROUTE_NOTICES"]
        )
        port = lab.ports.destination_lmtp if routed_to_hosted else lab.ports.source_lmtp
        data: dict[str, Any] = {
            "customer": f"Cutover Test {tag}",
            "slug": f"cutover-{tag}",
            "reseller": "Lab Reseller",
            "domains": [
                {"name": d, "mail_servers": [{"host": "127.0.0.1"}], "delivery_port": port}
                for d in names
            ]
            + [{"name": d} for d in fresh],
            "users_csv": "users.csv",
            "migration": {
                "enabled": migration,
                "source": {
                    "host": "127.0.0.1",
                    "port": lab.ports.source_imap,
                    "tls": "none",
                    "auth": {
                        "mode": "master",
                        "master_user": lab.source.master_user,
                        "password_secret": master_name,
                    },
                },
                "parallel_mailboxes": 2,
                "connections_per_source_host": 4,
                "task_retries": 1,
                "retry_backoff_seconds": 0.5,
                **(migration_settings or {}),
            },
            "hosted": {
                "imap_host": "127.0.0.1",
                "imap_port": lab.ports.destination_imap,
                "imap_tls": "none",
                "smtp_host": "127.0.0.1",
                "smtp_port": lab.ports.gateway_smtp,
                "delivery_host": "127.0.0.1",
                "delivery_port": lab.ports.destination_lmtp,
                "client_config_scheme": "http",
                "client_config_port": lab.ports.clientconfig,
                "submission_host": "127.0.0.1",
                "submission_port": lab.ports.submission,
            }
            | hosted(ours),
            "controlpanel": {"base_url": panel.url, "api_key_secret": key_name},
            "dns": lab_dns(lab),
            "cutover": {
                "ttl_multiple": 2,
                "require_approval": require_approval,
                "probe_timeout_seconds": 20,
                "approval_timeout_hours": 0.05,  # a pause nobody answers fails in 3 min
            },
            "output_dir": str(folder / "runs"),
            "notices": {"sender": "onboarding@mailroute.test"} | (notices or {}),
        }
        spec_path = write_customer_files(folder, data, users)
        publish_provider_zone(
            lab, ours, ttl=ttl, extra="\nautoconfig IN A 127.0.0.1\nautodiscover IN A 127.0.0.1"
        )  # the client-configuration names point at the lab's host
        for d in names:
            lab.dns.set_zone(
                d, zone_text(d, f'@ IN MX 10 mx1.old.{ours}.\n@ IN TXT "v=spf1 -all"', ttl=ttl)
            )
        for d in fresh:  # a new domain: registered, no mail records yet
            lab.dns.set_zone(d, zone_text(d, "", ttl=ttl))
        admin = httpx.Client(
            base_url=panel.url, headers={"Authorization": f"ApiKey {panel.api_key}"}, timeout=30
        )
        customer = LabCustomer(
            spec_path,
            str(data["slug"]),
            folder / "runs",
            names + fresh,
            ours,
            passwords,
            source_passwords,
            admin,
            lab,
            ttl,
        )
        made.append(customer)
        if provisioned:
            provision(customer)
        return customer

    yield make
    for c in made:
        c.admin.close()
        for e in c.passwords:
            lab.source.remove_user(e)
            lab.source.wipe_mail(e)
            lab.destination.wipe_mail(e)


def provision(c: LabCustomer) -> None:
    """What ``provision`` does, via the engine: customer, domains, routing, mailboxes."""
    spec = load_spec(c.spec)
    key = c.admin.headers["Authorization"].removeprefix("ApiKey ")
    with ControlPanelClient(spec.controlpanel.base_url, key) as cp:
        setup = set_up_customer(
            cp, customer=spec.customer, reseller=spec.reseller, domains=customer_domains(spec)
        )
        assert not setup.conflicts, setup
        domains = {d.domain.name: d.uri for d in setup.domains}
        credentials = read_user_credentials(spec)
        report = provision_accounts(cp, credentials, domains)
        assert report.counts["failed"] == 0, report
        made = provision_aliases(cp, [c for c in credentials if c.aliases], domains)
        assert not made.failed and not made.conflicts, made


def publish_plan(c: LabCustomer) -> dict[str, Any]:
    """Run ``dns-plan`` and publish every record it asks for (the customer's DNS change), and
    put the autoconfig/autodiscover files on the lab's client-configuration host (ours)."""
    state = dns_plan(spec_path=c.spec, return_state=True)
    data = result_json(state)
    for domain, records in planned_records(data).items():
        publish_records(c.lab.dns, domain, records, ttl=c.ttl)
    spec = load_spec(c.spec)
    c.lab.clientconfig.publish(
        dict(site_files(spec.domain_names, client_hosts(spec), display_name=spec.customer))
    )
    return data


def assert_no_secrets(c: LabCustomer, states: list[Any]) -> None:
    """Known passwords, the API key and the notice account's password appear in no log,
    artifact, parameter or file."""
    key = c.admin.headers["Authorization"].removeprefix("ApiKey ")
    notice_account = c.lab.secret_env()["ONBOARD_SECRET_MAILROUTE_NOTICES"]
    needles = [*c.secrets(), key, key.split(":", 1)[1], notice_account]
    texts: list[str] = []
    for state in states:
        texts += flow_run_texts(state.state_details.flow_run_id)
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(like_=c.slug)  # every artifact of this customer
            )
        )
        texts += [str(a.data) for a in arts]
    # Binary files too (PDFs, profiles); a PDF is rendered from the HTML written beside it,
    # which is searched as text.
    texts += [
        p.read_bytes().decode("utf-8", "replace") for p in c.output_dir.rglob("*") if p.is_file()
    ]
    assert texts
    for needle in needles:
        assert not any(needle in t for t in texts), "a secret leaked"
