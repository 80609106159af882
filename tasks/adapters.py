"""The one place that turns the customer spec (and the run's credentials) into engine inputs.

Engines take plain arguments and never see :class:`~validation.spec.OnboardingSpec`; tasks
never build engine inputs themselves. Everything here is a pure function of the spec, the
validated users and the :class:`~tasks.vault.Vault`, so a wrong field is found in one place
and a new engine option is added in one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from onboarding.clientconfig import ClientHosts
from onboarding.controlpanel import ControlPanelClient, CustomerDomain, InboundServer
from onboarding.cutover import DeliveryTarget
from onboarding.dnscheck import DNSInputs, DNSServers, DomainInput, HostedRecords, RecordOptions
from onboarding.dnscheck.dkim import DKIMKey, load_key, parse_stored_key, stored_key_value
from onboarding.dnscheck.query import parse_server
from onboarding.mailflow import ImapEndpoint, SmtpEndpoint
from onboarding.mailsync import Endpoint, MailboxPair, SyncOptions, pair_key
from onboarding.mailsync.models import PassKind
from tasks.vault import Vault
from validation.spec import MigrationNotConfigured, OnboardingSpec, slugify
from validation.users import UserCredentials, ValidatedUser

__all__ = [
    "MailboxJob",
    "control_panel",
    "customer_domains",
    "delivery_target",
    "dkim_block_name",
    "dkim_blocks_to_save",
    "dkim_keys",
    "dns_inputs",
    "imap_endpoint",
    "legacy_dkim_block_name",
    "mailbox_jobs",
    "mailbox_pair",
    "smtp_endpoint",
    "source_limit_name",
    "state_url",
    "stored_dkim_pems",
    "sync_options",
]


# -- control panel, gateway, hosted mail ---------------------------------------------------


def control_panel(spec: OnboardingSpec, vault: Vault) -> ControlPanelClient:
    """A client for the spec's control panel with the key from its Secret block."""
    c = spec.controlpanel
    return ControlPanelClient(
        c.base_url, vault.secret(c.api_key_secret), allow_plaintext=spec.allow_plaintext
    )


def customer_domains(spec: OnboardingSpec) -> tuple[CustomerDomain, ...]:
    """The spec's domains as the control-panel engine creates and routes them."""
    return tuple(
        CustomerDomain(
            name=d.name,
            mail_servers=tuple(InboundServer(m.host, m.priority) for m in d.mail_servers),
            delivery_port=d.delivery_port,
        )
        for d in spec.domains
    )


def delivery_target(spec: OnboardingSpec) -> DeliveryTarget:
    """Where the gateway delivers a cut-over domain's mail: the hosted mailboxes."""
    return DeliveryTarget(spec.hosted.delivery_host, spec.hosted.delivery_port)


def imap_endpoint(spec: OnboardingSpec) -> ImapEndpoint:
    """The hosted IMAP service users log in to."""
    h = spec.hosted
    return ImapEndpoint(
        h.imap_host, h.imap_port, h.imap_tls.value, allow_plaintext=spec.allow_plaintext
    )


def smtp_endpoint(spec: OnboardingSpec) -> SmtpEndpoint:
    """The gateway that accepts the customer's inbound mail (probes go through it)."""
    return SmtpEndpoint(spec.hosted.smtp_host, spec.hosted.smtp_port)


# -- DNS ---------------------------------------------------------------------------------------


def dns_inputs(spec: OnboardingSpec) -> DNSInputs:
    """The DNS engine's inputs from the spec: domains, our records, options, servers.

    Raises ValueError when a DNS server in ``dns.resolvers`` / ``dns.nameservers`` is not an IP
    address with an optional port.
    """
    hosted, dns = spec.hosted, spec.dns
    return DNSInputs(
        customer=spec.customer,
        customer_slug=spec.customer_slug,
        domains=tuple(
            DomainInput(d.name, tuple(s.host for s in d.mail_servers)) for d in spec.domains
        ),
        hosted=HostedRecords(
            mx_hosts=tuple((m.priority, m.host) for m in hosted.mx_hosts),
            spf_include=hosted.spf_include,
            outbound_ips=hosted.outbound_ips,
            clients=ClientHosts(
                hosted.client_imap_host,
                hosted.client_submission_host,
                hosted.autoconfig_host,
                hosted.autodiscover_host,
            ),
        ),
        options=RecordOptions(
            dkim_selector=dns.dkim_selector,
            dmarc_policy=dns.dmarc_policy,
            dmarc_rua=dns.dmarc_rua,
            old_spf_includes=dns.old_spf_includes,
        ),
        servers=DNSServers(
            resolvers=tuple(parse_server(s) for s in dns.resolvers),
            nameservers=tuple(parse_server(s) for s in dns.nameservers),
            timeout=dns.timeout_seconds,
        ),
        ttl_multiple=spec.cutover.ttl_multiple,
    )


def dkim_block_name(domain: str, selector: str) -> str:
    """The Secret block holding ``domain``'s DKIM private key for ``selector``.

    Readable and injective: the slugs (cut so the name fits 63 characters) plus a hash of the
    exact domain and selector, so ``acme-corp.com`` and ``acme.corp.com`` (one slug) or two
    long names cut to the same prefix never share a block (issue 13)::

        >>> dkim_block_name("acme.test", "mr1")
        'dkim-acme-test-mr1-063a422ce2'
    """
    exact = f"{domain.lower().rstrip('.')}\0{selector.lower()}".encode()
    digest = hashlib.sha256(exact).hexdigest()[:10]
    return f"{f'dkim-{slugify(domain)}-{slugify(selector)}'[:52].rstrip('-')}-{digest}"


def legacy_dkim_block_name(domain: str, selector: str) -> str:
    """The block name used before :func:`dkim_block_name` (not injective), still read so a
    customer keeps the key already published; ``dns-plan`` re-saves it under the new name."""
    return f"dkim-{slugify(domain)}-{slugify(selector)}"[:63].rstrip("-")


def _secret_or_none(vault: Vault, name: str) -> str | None:
    try:
        return vault.secret(name) or None
    except LookupError:
        return None


def stored_dkim_pems(spec: OnboardingSpec, vault: Vault) -> dict[str, SecretStr | None]:
    """Our stored DKIM private key (PEM) per domain; None where ``dns-plan`` made none yet.

    The block under :func:`dkim_block_name` must name its domain and selector (checked:
    another domain's key raises :class:`~onboarding.dnscheck.DKIMKeyError`); when it is
    missing, a bare PEM under :func:`legacy_dkim_block_name` is used.
    """
    selector = spec.dns.dkim_selector
    keys: dict[str, SecretStr | None] = {}
    for dom in spec.domains:
        value = _secret_or_none(vault, dkim_block_name(dom.name, selector))
        if value is not None:
            keys[dom.name] = parse_stored_key(value, dom.name, selector)
            continue
        legacy = _secret_or_none(vault, legacy_dkim_block_name(dom.name, selector))
        keys[dom.name] = (
            parse_stored_key(legacy, dom.name, selector, legacy_pem=True) if legacy else None
        )
    return keys


def dkim_blocks_to_save(
    spec: OnboardingSpec, vault: Vault, keys: Sequence[DKIMKey]
) -> dict[str, str]:
    """Block name → value for every key not yet stored under its (new) block name: the
    newly made ones and those read from a legacy block."""
    return {
        dkim_block_name(k.domain, k.selector): stored_key_value(k.domain, k.selector, k.private_pem)
        for k in keys
        if _secret_or_none(vault, dkim_block_name(k.domain, k.selector)) is None
    }


def dkim_keys(spec: OnboardingSpec, vault: Vault) -> dict[str, DKIMKey | None]:
    """Our stored DKIM key per domain, loaded (None when the plan has not made one yet)."""
    return {
        domain: load_key(domain, spec.dns.dkim_selector, pem) if pem else None
        for domain, pem in stored_dkim_pems(spec, vault).items()
    }


# -- mailbox migration -----------------------------------------------------------------------


def source_limit_name(host: str, port: int) -> str:
    """``mailsync-source-<host>-<port>``; GCL names may not contain ``/ % & > <``."""
    safe = "".join(c if c.isalnum() or c in ".-_:" else "-" for c in host)
    return f"mailsync-source-{safe}-{port}"


@dataclass(frozen=True)
class MailboxJob:
    """A mailbox pair as the flow sees it: everything but the passwords, safe to log."""

    mailbox: str
    source_host: str
    source_port: int
    source_account: str
    destination_host: str
    destination_port: int

    @property
    def key(self) -> str:
        """The pair's identity in the engine's state and locks (``MailboxPair.key``)."""
        return pair_key(
            source_host=self.source_host,
            source_port=self.source_port,
            source_account=self.source_account,
            destination_host=self.destination_host,
            destination_port=self.destination_port,
            destination_account=self.mailbox,
        )

    @property
    def pair_limit(self) -> str:
        """The global concurrency limit (size 1) that serialises syncs of this pair."""
        return "mailsync-pair-" + hashlib.sha256(self.key.encode()).hexdigest()[:20]

    @property
    def source_limit(self) -> str:
        """The global concurrency limit that caps connections to this source server."""
        return source_limit_name(self.source_host, self.source_port)


def _require_source(spec: OnboardingSpec) -> None:
    if not spec.migration.enabled or spec.migration.source is None:
        path = spec.spec_path or Path("customer.yaml")
        raise MigrationNotConfigured(
            f"{path}: migration.enabled is false in the spec; set it to true and describe "
            "migration.source",
            path=path,
        )


def mailbox_jobs(spec: OnboardingSpec, users: Sequence[ValidatedUser]) -> tuple[MailboxJob, ...]:
    """One job per user, in CSV order; no secret is read."""
    _require_source(spec)
    assert spec.migration.source is not None
    src = spec.migration.source
    return tuple(
        MailboxJob(
            mailbox=u.email,
            source_host=src.host,
            source_port=src.port,
            source_account=u.source_username or u.email,
            destination_host=spec.hosted.imap_host,
            destination_port=spec.hosted.imap_port,
        )
        for u in users
    )


def mailbox_pair(spec: OnboardingSpec, user: UserCredentials, vault: Vault) -> MailboxPair:
    """The engine's pair with both logins (master mode reads the Secret block, once a run)."""
    _require_source(spec)
    assert spec.migration.source is not None
    src = spec.migration.source
    account = user.source_username or user.email
    if src.auth.mode == "master":
        assert src.auth.master_user and src.auth.password_secret  # the spec validator says so
        login = f"{account}{src.auth.master_separator}{src.auth.master_user}"
        source_password = vault.secret(src.auth.password_secret)
    else:
        login = account
        source_password = (user.source_password or user.password).get_secret_value()
    return MailboxPair(
        mailbox=user.email,
        source=Endpoint(
            host=src.host,
            port=src.port,
            tls=src.tls.value,
            login=login,
            password=source_password,
            allow_plaintext=spec.allow_plaintext,
        ),
        destination=Endpoint(
            host=spec.hosted.imap_host,
            port=spec.hosted.imap_port,
            tls=spec.hosted.imap_tls.value,
            login=user.email,
            password=user.password.get_secret_value(),
            allow_plaintext=spec.allow_plaintext,
        ),
    )


def sync_options(spec: OnboardingSpec, pass_kind: PassKind) -> SyncOptions:
    """The engine options the spec asks for."""
    m = spec.migration
    return SyncOptions(
        pass_kind=pass_kind,
        exclude_trash_and_junk=m.exclude_trash_and_junk,
        exclude_folders=tuple(m.exclude_folders),
        folder_renames=dict(m.folder_renames),
        max_message_bytes=m.max_message_bytes,
        max_retries=m.reconnect_retries,
        byte_budget=None if m.byte_budget_per_pass_mb is None else m.byte_budget_per_pass_mb << 20,
    )


def state_url(spec: OnboardingSpec) -> str:
    """``migration.state_url``, else a SQLite file next to the customer's run folders."""
    if spec.migration.state_url:
        return spec.migration.state_url
    path = (Path(spec.output_dir) / spec.customer_slug / "mailsync-state.db").resolve()
    return f"sqlite:///{path}"
