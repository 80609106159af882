"""The one place that turns the customer spec (and the run's credentials) into engine inputs.

Engines take plain arguments and never see :class:`~validation.spec.OnboardingSpec`; tasks
never build engine inputs themselves. Everything here is a pure function of the spec, the
validated users and the :class:`~tasks.vault.Vault`, so a wrong field is found in one place
and a new engine option is added in one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypedDict

from pydantic import SecretStr

from onboarding.clientconfig import ClientHosts, ClientLookup, GuideInputs, GuideUser
from onboarding.controlpanel import ControlPanelClient, CustomerDomain, InboundServer
from onboarding.customer_report import ReportSources
from onboarding.cutover import DeliveryTarget
from onboarding.dnscheck import DNSInputs, DNSServers, DomainInput, HostedRecords, RecordOptions
from onboarding.dnscheck.dkim import DKIMKey, load_key, parse_stored_key, stored_key_value
from onboarding.dnscheck.query import parse_server
from onboarding.documents import SupportContacts
from onboarding.mailflow import ImapEndpoint, SmtpEndpoint, SubmissionEndpoint
from onboarding.mailsync import Endpoint, MailboxPair, SyncOptions, pair_key, require_app_access
from onboarding.mailsync.models import PassKind
from onboarding.mailsync.oauth import (
    GOOGLE_SCOPE,
    MICROSOFT_AUTHORITY,
    MICROSOFT_SCOPE,
    ClientCredentialsTokens,
    GoogleTokens,
    MicrosoftTokens,
    TokenSource,
)
from onboarding.mailsync.ratelimit import HostRates, Pacer, RateLimits
from onboarding.notices import ClientSettings, Notice, NoticeContext, NoticeSender
from tasks.vault import Vault
from validation.spec import MigrationNotConfigured, OnboardingSpec, SourceAuth, slugify
from validation.users import UserCredentials, ValidatedUser

__all__ = [
    "DEFAULT_SUPPORT",
    "DateWindow",
    "MailboxJob",
    "accounts_to_test",
    "client_hosts",
    "client_lookup",
    "client_lookup_addresses",
    "client_settings",
    "control_panel",
    "customer_domains",
    "customer_report_sources",
    "cutover_domains",
    "delivery_target",
    "dkim_block_name",
    "dkim_blocks_to_save",
    "dkim_keys",
    "dns_inputs",
    "guide_inputs",
    "host_rate_limits",
    "imap_endpoint",
    "legacy_dkim_block_name",
    "mailbox_jobs",
    "mailbox_pair",
    "new_domains",
    "notice_sender",
    "notices_for",
    "smtp_endpoint",
    "source_connections",
    "source_limit_name",
    "state_url",
    "stored_dkim_pems",
    "submission_endpoint",
    "support_contacts",
    "sync_options",
]

# The runbook's support contacts; the spec's ``support`` section overrides them.
DEFAULT_SUPPORT = SupportContacts()


# -- control panel, gateway, hosted mail ---------------------------------------------------


def control_panel(spec: OnboardingSpec, vault: Vault) -> ControlPanelClient:
    """A client for the spec's control panel with the key from its Secret block."""
    c = spec.controlpanel
    return ControlPanelClient(
        c.base_url, vault.secret(c.api_key_secret), allow_plaintext=spec.allow_plaintext
    )


def customer_domains(spec: OnboardingSpec) -> tuple[CustomerDomain, ...]:
    """The spec's domains as the control-panel engine creates and routes them.

    A new domain (no ``mail_servers``) is routed to the hosted mailboxes from the start: its
    one mail server is the cutover's delivery target, so it is "cut over" from birth.
    """
    hosted = spec.hosted
    return tuple(
        CustomerDomain(
            name=d.name,
            mail_servers=(InboundServer(hosted.delivery_host, 10),),
            delivery_port=hosted.delivery_port,
        )
        if d.is_new
        else CustomerDomain(
            name=d.name,
            mail_servers=tuple(InboundServer(m.host, m.priority) for m in d.mail_servers),
            delivery_port=d.delivery_port,
        )
        for d in spec.domains
    )


def cutover_domains(spec: OnboardingSpec) -> tuple[str, ...]:
    """The domains the cutover moves: every domain that has mail today (not a new one)."""
    return tuple(d.name for d in spec.domains if not d.is_new)


def new_domains(spec: OnboardingSpec) -> tuple[str, ...]:
    """The domains with no mail yet: hosted from the start, never held or migrated."""
    return tuple(d.name for d in spec.domains if d.is_new)


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


def submission_endpoint(spec: OnboardingSpec) -> SubmissionEndpoint:
    """The hosted submission service users' clients send through (587, STARTTLS, AUTH)."""
    h = spec.hosted
    return SubmissionEndpoint(h.submission_host, h.submission_port, h.submission_tls.value)


def accounts_to_test(
    spec: OnboardingSpec, credentials: Mapping[str, UserCredentials]
) -> tuple[tuple[UserCredentials, ...], tuple[str, ...]]:
    """The test accounts to prove before the cutover, and those named but not in the list.

    ``cutover.test_accounts`` when given, else the first user (in CSV order) of each domain.
    """
    named = spec.cutover.test_accounts
    if named:
        by_email = {e.lower(): c for e, c in credentials.items()}
        found = tuple(by_email[a] for a in named if a in by_email)
        return found, tuple(a for a in named if a not in by_email)
    first: dict[str, UserCredentials] = {}
    for cred in credentials.values():
        first.setdefault(cred.email.rsplit("@", 1)[1].lower(), cred)
    return tuple(first[d] for d in spec.domain_names if d in first), ()


# -- notices -------------------------------------------------------------------------------


def client_settings(spec: OnboardingSpec) -> ClientSettings:
    """The public names users' mail programs are set to (not the lab's loopback ports)."""
    return ClientSettings(spec.hosted.client_imap_host, spec.hosted.client_submission_host)


def notice_sender(spec: OnboardingSpec, vault: Vault) -> NoticeSender:
    """The hosted account notices come from, with its password from the Secret block."""
    n = spec.notices
    return NoticeSender(n.sender, vault.secret(n.sender_secret), n.sender_name)


def notices_for(
    spec: OnboardingSpec,
    users: Sequence[UserCredentials],
    *,
    ready_at: datetime,
) -> tuple[Notice, ...]:
    """One notice context per user; each may not contain that user's passwords."""
    n = spec.notices
    out = []
    for u in users:
        domain = u.email.rsplit("@", 1)[1].lower()
        context = NoticeContext(
            customer=spec.customer,
            email=u.email,
            aliases=tuple(f"{a}@{domain}" if "@" not in a else a for a in u.aliases),
            settings=client_settings(spec),
            support=support_contacts(spec),
            ready_at=ready_at,
            window=n.cutover_window,
            guide=n.guide,
            migrated=spec.migration.enabled,
        )
        forbidden = [u.password.get_secret_value()]
        if u.source_password is not None:
            forbidden.append(u.source_password.get_secret_value())
        out.append(Notice(context, tuple(forbidden)))
    return tuple(out)


# -- DNS ---------------------------------------------------------------------------------------


def dns_inputs(spec: OnboardingSpec, *, only: Collection[str] | None = None) -> DNSInputs:
    """The DNS engine's inputs from the spec: domains, our records, options, servers.

    ``only``: just these domains (the cutover's readiness ignores the new ones).

    Raises ValueError when a DNS server in ``dns.resolvers`` / ``dns.nameservers`` is not an IP
    address with an optional port.
    """
    hosted, dns = spec.hosted, spec.dns
    return DNSInputs(
        customer=spec.customer,
        customer_slug=spec.customer_slug,
        domains=tuple(
            DomainInput(d.name, tuple(s.host for s in d.mail_servers))
            for d in spec.domains
            if only is None or d.name in only
        ),
        hosted=HostedRecords(
            mx_hosts=tuple((m.priority, m.host) for m in hosted.mx_hosts),
            spf_include=hosted.spf_include,
            outbound_ips=hosted.outbound_ips,
            clients=client_hosts(spec),
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


# -- what the customer and its users receive -------------------------------------------------


def client_hosts(spec: OnboardingSpec) -> ClientHosts:
    """The public names mail clients are given (SRV targets, autoconfig/autodiscover hosts)."""
    h = spec.hosted
    return ClientHosts(
        h.client_imap_host, h.client_submission_host, h.autoconfig_host, h.autodiscover_host
    )


def support_contacts(spec: OnboardingSpec) -> SupportContacts:
    """The support contacts every customer-facing document names (``support:`` in the spec)."""
    return SupportContacts(spec.support.technical, spec.support.account_management)


def guide_inputs(spec: OnboardingSpec, users: Sequence[ValidatedUser]) -> GuideInputs:
    """The client guides' inputs: hosts, webmail, support, every user with full alias addresses."""
    return GuideInputs(
        customer=spec.customer,
        domains=spec.domain_names,
        hosts=client_hosts(spec),
        webmail_url=spec.hosted.webmail_url,
        support=support_contacts(spec),
        users=tuple(GuideUser(u.email, tuple(f"{a}@{u.domain}" for a in u.aliases)) for u in users),
        spf_include=spec.hosted.spf_include,
        min_password_length=spec.password_policy.min_length,
        min_character_classes=spec.password_policy.min_character_classes,
    )


def customer_report_sources(
    spec: OnboardingSpec,
    *,
    verify: Mapping[str, Any],
    provision: Mapping[str, Any] | None,
    migrate: Mapping[str, Any] | None,
    cutover: Mapping[str, Any] | None,
) -> ReportSources:
    """The final report's inputs: the phases' JSON reports and the spec's names and contacts."""
    return ReportSources(
        customer=spec.customer,
        domains=spec.domain_names,
        verify=verify,
        support=support_contacts(spec),
        followup_hours=spec.followup.after_hours,
        provision=provision,
        migrate=migrate,
        cutover=cutover,
        migration_enabled=spec.migration.enabled,
    )


def client_lookup(spec: OnboardingSpec) -> ClientLookup:
    """How ``verify`` reaches our client-configuration hosts: the spec's resolvers, scheme, port.

    Raises ValueError when a resolver in ``dns.resolvers`` is not an IP address with a port.
    """
    h = spec.hosted
    return ClientLookup(
        resolvers=tuple(parse_server(s) for s in spec.dns.resolvers),
        scheme=h.client_config_scheme,
        port=h.client_config_port,
        timeout=spec.dns.timeout_seconds,
    )


def client_lookup_addresses(
    spec: OnboardingSpec, users: Sequence[ValidatedUser]
) -> tuple[tuple[str, str], ...]:
    """``(domain, address)`` to look up per domain: its first user, else ``postmaster@``."""
    first: dict[str, str] = {}
    for u in users:
        first.setdefault(u.domain, u.email)
    return tuple((d, first.get(d, f"postmaster@{d}")) for d in spec.domain_names)


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


def source_connections(spec: OnboardingSpec) -> int:
    """Connections to one source host at once: ``migration.source.connections`` (a
    provider's preset) else ``migration.connections_per_source_host``; each actual host
    (a user's ``source_host`` column) has its own cap of that size."""
    src = spec.migration.source
    if src is not None and src.connections is not None:
        return src.connections
    return spec.migration.connections_per_source_host


def _source_address(spec: OnboardingSpec, user: ValidatedUser | UserCredentials) -> tuple[str, int]:
    """The user's old server: its ``source_host`` / ``source_port`` cells, else the spec's."""
    src = spec.migration.source
    assert src is not None
    return user.source_host or src.host, user.source_port or src.port


def mailbox_jobs(spec: OnboardingSpec, users: Sequence[ValidatedUser]) -> tuple[MailboxJob, ...]:
    """One job per user, in CSV order, except users of a new domain (they have no old
    mailbox); no secret is read."""
    _require_source(spec)
    assert spec.migration.source is not None
    new = set(new_domains(spec))
    return tuple(
        MailboxJob(
            mailbox=u.email,
            source_host=_source_address(spec, u)[0],
            source_port=_source_address(spec, u)[1],
            source_account=u.source_username or u.email,
            destination_host=spec.hosted.imap_host,
            destination_port=spec.hosted.imap_port,
        )
        for u in users
        if u.email.rsplit("@", 1)[1].lower() not in new
    )


def mailbox_pair(spec: OnboardingSpec, user: UserCredentials, vault: Vault) -> MailboxPair:
    """The engine's pair with both logins (master mode reads the Secret block, once a run)."""
    _require_source(spec)
    assert spec.migration.source is not None
    src = spec.migration.source
    account = user.source_username or user.email
    authzid: str | None = None
    tokens = token_source(spec, vault)
    if tokens is not None:
        login, source_password = account, ""
    elif src.auth.mode == "master":
        assert src.auth.master_user and src.auth.password_secret  # the spec validator says so
        if src.auth.master_style == "authzid":
            login, authzid = src.auth.master_user, account
        else:
            login = f"{account}{src.auth.master_separator}{src.auth.master_user}"
        source_password = vault.secret(src.auth.password_secret)
    else:
        login = account
        source_password = (user.source_password or user.password).get_secret_value()
    host, port = _source_address(spec, user)
    return MailboxPair(
        mailbox=user.email,
        source=_source_endpoint(spec, host, port, login, source_password, authzid, tokens),
        destination=Endpoint(
            host=spec.hosted.imap_host,
            port=spec.hosted.imap_port,
            tls=spec.hosted.imap_tls.value,
            login=user.email,
            password=user.password.get_secret_value(),
            allow_plaintext=spec.allow_plaintext,
        ),
    )


def _source_endpoint(
    spec: OnboardingSpec,
    host: str,
    port: int,
    login: str,
    password: str,
    authzid: str | None,
    tokens: TokenSource | None,
) -> Endpoint:
    src = spec.migration.source
    assert src is not None
    return Endpoint(
        host=host,
        port=port,
        tls=src.tls.value,
        login=login,
        password=password,
        verify_tls=src.tls_verify,
        ca_file=str(src.ca_file) if src.ca_file else None,
        allow_plaintext=spec.allow_plaintext,
        authzid=authzid,
        token_source=tokens,
    )


def token_source(spec: OnboardingSpec, vault: Vault) -> TokenSource | None:
    """The run's OAuth2 token source for the source login (one per run and process, cached
    in the vault so every mailbox shares its tokens); None for password logins."""
    src = spec.migration.source
    if src is None or src.auth.mode not in ("microsoft365", "google", "oauthbearer"):
        return None
    auth = src.auth
    block = auth.service_account_secret if auth.mode == "google" else auth.client_secret_secret
    assert block is not None  # the spec validator says so
    key = f"{auth.mode}:{block}:{auth.tenant_id}:{auth.client_id}:{auth.token_url}"
    return vault.shared(key, lambda: _new_token_source(auth, block, vault.secret(block)))


def require_source_tokens(spec: OnboardingSpec, jobs: Sequence[MailboxJob], vault: Vault) -> None:
    """Get the run's first OAuth token and log in with it now, so refused credentials, or
    an app the mail server refuses, fail the run once with one sentence (naming the Secret
    block and the fix) before any mailbox is touched (:func:`require_app_access`)."""
    tokens = token_source(spec, vault)
    if tokens is None or not jobs:
        return
    tokens.token(jobs[0].source_account)
    require_app_access(
        _source_endpoint(spec, j.source_host, j.source_port, j.source_account, "", None, tokens)
        for j in jobs
    )


class _Client(TypedDict):
    client_id: str
    client_secret: str
    secret_name: str


def _new_token_source(auth: SourceAuth, block: str, secret: str) -> TokenSource:
    if auth.mode == "google":
        return GoogleTokens(key_json=secret, secret_name=block, scope=auth.scope or GOOGLE_SCOPE)
    assert auth.client_id is not None
    client = _Client(client_id=auth.client_id, client_secret=secret, secret_name=block)
    if auth.mode == "microsoft365":
        assert auth.tenant_id is not None
        authority = auth.token_url or MICROSOFT_AUTHORITY
        scope = auth.scope or MICROSOFT_SCOPE
        return MicrosoftTokens(tenant_id=auth.tenant_id, authority=authority, scope=scope, **client)
    assert auth.token_url is not None
    return ClientCredentialsTokens(token_url=auth.token_url, scope=auth.scope, **client)


def sync_options(
    spec: OnboardingSpec,
    pass_kind: PassKind,
    *,
    window: DateWindow | None = None,
    approved_items: frozenset[tuple[str, int]] = frozenset(),
    source: tuple[str, int] | None = None,
    host_rates: HostRates | None = None,
) -> SyncOptions:
    """The engine options the spec asks for, for one pass (and one mailbox's approvals).

    The byte budget and the daily byte cap never apply to the final pass: it runs while
    delivery is held and must copy everything. Rates do: the mailbox's own, and the shared
    buckets of its source host (``source``) from ``host_rates`` (one per run and process,
    :func:`host_rate_limits`). A provider's folder hints apply under ``folder_renames``.
    ``window`` (``--since`` / ``--before``) overrides the spec's dates for this run, except
    in the final pass, which keeps the spec's scope.
    """
    m = spec.migration
    src = m.source
    budget = None if m.byte_budget_per_pass_mb is None else m.byte_budget_per_pass_mb << 20
    daily = None if src is None or src.daily_download_mb is None else src.daily_download_mb << 20
    pacer = None
    if src is not None and src.rate_limited:
        mailbox = RateLimits(src.max_messages_per_second, src.max_bytes_per_second).rates()
        shared = host_rates.get(f"{source[0]}:{source[1]}") if host_rates and source else None
        pacer = Pacer(mailbox=mailbox, host=shared or (None, None))
    since, before = m.since, m.before
    if window is not None and pass_kind != "final":
        since = window.since if window.since is not None else since
        before = window.before if window.before is not None else before
    return SyncOptions(
        pass_kind=pass_kind,
        exclude_trash_and_junk=m.exclude_trash_and_junk,
        exclude_folders=tuple(m.exclude_folders),
        folder_renames={**(src.folder_hints if src else {}), **m.folder_renames},
        max_message_bytes=m.max_message_bytes,
        max_retries=m.reconnect_retries,
        byte_budget=None if pass_kind == "final" else budget,
        since=since,
        before=before,
        approved_items=approved_items,
        pacer=pacer,
        daily_byte_cap=None if pass_kind == "final" else daily,
    )


def host_rate_limits(spec: OnboardingSpec) -> HostRates:
    """Empty per-host buckets for the spec's ``host_max_*`` rates (None: unlimited)."""
    src = spec.migration.source
    if src is None:
        return HostRates(RateLimits())
    return HostRates(RateLimits(src.host_max_messages_per_second, src.host_max_bytes_per_second))


@dataclass(frozen=True)
class DateWindow:
    """A run's ``--since`` / ``--before`` (either may be None: the spec's value stands)."""

    since: date | None = None
    before: date | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.before is not None and self.since >= self.before:
            raise ValueError(f"--since {self.since} must be a day before --before {self.before}")


def state_url(spec: OnboardingSpec) -> str:
    """``migration.state_url``, else a SQLite file next to the customer's run folders."""
    if spec.migration.state_url:
        return spec.migration.state_url
    path = (Path(spec.output_dir) / spec.customer_slug / "mailsync-state.db").resolve()
    return f"sqlite:///{path}"
