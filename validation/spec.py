"""The customer spec (``customer.yaml``): one file describes one customer's onboarding.

``load_spec(path)`` returns an :class:`OnboardingSpec` or raises :class:`SpecError` whose
message lists every problem as ``<yaml path>: <what is expected>``, for example::

    customer.yaml: domains[1].mail_servers[0].priority: must be an integer 0-65535, got "high"

Secrets are never written in the file: the spec names a Prefect Secret block
(``*_secret`` fields); a key that looks like an inline secret (``password``, ``api_key``,
``secret``, ``token``) is an error that says which block field to use instead.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from onboarding import OnboardingError
from onboarding.notices.render import languages  # the templates decide what is supported
from onboarding.tls import PLAINTEXT_WARNING, plaintext_problem, unverified_warning, url_problem
from validation._files import FileRefused, read_bounded
from validation._yaml import YAMLRefused, load_yaml

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_SPEC_BYTES",
    "PROVIDER_PRESETS",
    "AccountMode",
    "ControlPanelSettings",
    "CutoverSettings",
    "DNSSettings",
    "DomainSpec",
    "FollowUpSettings",
    "HostedService",
    "MailServer",
    "MigrationSettings",
    "NoticeSettings",
    "OnboardingSpec",
    "PasswordPolicy",
    "PrefectServer",
    "Provider",
    "SourceAuth",
    "SourceServer",
    "SpecError",
    "SupportContacts",
    "TLSMode",
    "load_spec",
    "slugify",
]

MAX_SPEC_BYTES = 1 << 20  #: a spec is a few KB; anything over 1 MiB is the wrong file

_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$", re.IGNORECASE
)
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")
_SECRET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_INLINE_SECRET_KEYS = {"password", "passwd", "api_key", "apikey", "secret", "token", "key"}

SecretName = Annotated[
    str,
    Field(
        pattern=_SECRET_NAME_RE.pattern,
        description="Name of a Prefect Secret block (lowercase letters, digits, dashes).",
    ),
]
Port = Annotated[int, Field(ge=1, le=65535)]


class SpecError(OnboardingError):
    """Raised when customer.yaml is missing, not YAML, or does not match the spec model."""

    def __init__(self, message: str, *, path: Path, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path
        self.problems = problems


class MigrationNotConfigured(SpecError):
    """Raised when a migration step runs for a spec whose ``migration`` is not enabled."""


def slugify(text: str) -> str:
    """Return a lowercase dash-separated slug for artifact keys (``Acme Corp`` → ``acme-corp``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "customer"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TLSMode(StrEnum):
    """How to secure an IMAP connection: implicit TLS (993), STARTTLS, or none (lab only)."""

    IMPLICIT = "implicit"
    STARTTLS = "starttls"
    NONE = "none"


class AccountMode(StrEnum):
    """Who creates the mailboxes: we do (``create``) or the users do (``self_service``)."""

    CREATE = "create"
    SELF_SERVICE = "self_service"


class MailServer(_Model):
    """One of the customer's current inbound servers; lower priority is tried first."""

    host: str = Field(pattern=_HOST_RE.pattern)
    priority: int = Field(default=10, ge=0, le=65535)


class DomainSpec(_Model):
    """A customer domain and where its mail goes today.

    No ``mail_servers`` (empty or absent) is a new domain with no mail yet: it is routed to
    the hosted service from the start and needs no migration, hold or TTL wait.
    """

    name: str
    mail_servers: tuple[MailServer, ...] = ()
    delivery_port: int = Field(default=25, ge=1, le=65535)

    @property
    def is_new(self) -> bool:
        """True for a domain with no current mail servers (no mail yet)."""
        return not self.mail_servers

    @field_validator("name")
    @classmethod
    def _domain_name(cls, value: str) -> str:
        value = value.lower().rstrip(".")
        if not _DOMAIN_RE.match(value):
            raise ValueError(f"must be a domain name such as example.com, got {value!r}")
        return value


class PasswordPolicy(_Model):
    """Rules a user's new password must meet before we create the mailbox."""

    min_length: int = Field(default=10, ge=4, le=128)
    min_character_classes: int = Field(default=3, ge=1, le=4)
    forbid_local_part: bool = True
    forbid_common: bool = True


class SourceAuth(_Model):
    """How the migration logs in to the old server.

    ``user``: each user's own password from the CSV (``source_password`` column, or the
    new password when absent). ``master``: one admin login whose password is the Prefect
    Secret block ``password_secret``: Dovecot master user style ``user*admin``, or with
    ``master_style: authzid`` SASL ``AUTHENTICATE PLAIN`` with the user as authorization
    identity (Dovecot, Cyrus, Zimbra). ``microsoft365``: app-only OAuth2 (``tenant_id``,
    ``client_id``, the client secret in ``client_secret_secret``, or there the PEM private
    key + certificate of a certificate credential), ``AUTHENTICATE XOAUTH2``
    as each user. ``google``: a service account with domain-wide delegation (its JSON key in
    ``service_account_secret``), a token per user, ``AUTHENTICATE XOAUTH2``. ``oauthbearer``:
    client-credentials tokens from ``token_url`` (``client_id``, ``client_secret_secret``,
    optional ``scope``), ``AUTHENTICATE OAUTHBEARER`` (RFC 7628).
    """

    mode: Literal["user", "master", "microsoft365", "google", "oauthbearer"] = "user"
    master_user: str | None = None
    password_secret: SecretName | None = None
    master_separator: str = "*"
    master_style: Literal["suffix", "authzid"] = "suffix"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret_secret: SecretName | None = None
    service_account_secret: SecretName | None = None
    token_url: str | None = Field(
        default=None,
        description="Token endpoint: microsoft365 the authority (default "
        "https://login.microsoftonline.com), oauthbearer the token URL (required); google "
        "uses the key file's token_uri.",
    )
    scope: str | None = None

    @model_validator(mode="after")
    def _master_needs_login(self) -> SourceAuth:
        if self.mode == "master" and not (self.master_user and self.password_secret):
            raise ValueError(
                "mode 'master' needs master_user and password_secret (a Prefect Secret block name)"
            )
        needs: dict[str, tuple[str, ...]] = {
            "microsoft365": ("tenant_id", "client_id", "client_secret_secret"),
            "google": ("service_account_secret",),
            "oauthbearer": ("token_url", "client_id", "client_secret_secret"),
        }
        missing = [f for f in needs.get(self.mode, ()) if not getattr(self, f)]
        if missing:
            raise ValueError(f"mode {self.mode!r} needs {', '.join(missing)}")
        return self


Provider = Literal["generic", "microsoft365", "google"]

_MB = 1 << 20
# What each provider needs, from its own documents and imapsync's presets (see
# ../shared/reference/imap-migration.md §3): hosts and ports; Exchange Online allows 20
# concurrent IMAP connections per mailbox (one here) and Microsoft advises about 10
# concurrent migrations per source, 3,600 messages per hour and about 300 MB per user per
# hour (imapsync: --maxmessagespersecond 4, --maxbytespersecond 83333); Gmail allows 15
# connections per account and about 2,500 MB of IMAP download per day. Any key the spec
# gives wins over the preset.
PROVIDER_PRESETS: dict[str, dict[str, Any]] = {
    "generic": {},
    "microsoft365": {
        "host": "outlook.office365.com",
        "port": 993,
        "tls": "implicit",
        "auth_mode": "microsoft365",
        "connections": 10,
        "max_messages_per_second": 4.0,
        "max_bytes_per_second": 83_333.0,
        "folder_hints": {"Sent Items": "Sent", "Deleted Items": "Trash", "Junk Email": "Junk"},
    },
    "google": {
        "host": "imap.gmail.com",
        "port": 993,
        "tls": "implicit",
        "auth_mode": "google",
        "connections": 10,
        "daily_download_mb": 2_500,
        "folder_hints": {
            "[Gmail]/Sent Mail": "Sent",
            "[Gmail]/Spam": "Junk",
            "[Gmail]/Trash": "Trash",
            "[Gmail]/Drafts": "Drafts",
        },
    },
}

Rate = Annotated[float, Field(gt=0, le=1e12)]


class SourceServer(_Model):
    """The customer's old IMAP server.

    ``provider`` (``generic``, ``microsoft365``, ``google``) fills in what that provider
    needs (:data:`PROVIDER_PRESETS`): host, port, TLS, login mode, connection cap, rates, the
    daily byte cap and folder-name hints; every one of them set in the spec wins.

    Rates bound what is read from the source (imapsync's ``--maxmessagespersecond`` /
    ``--maxbytespersecond``): ``max_*`` per mailbox, ``host_max_*`` for all mailboxes of one
    source host together. ``daily_download_mb`` caps what one account sends in 24 hours; a
    mailbox that reaches it pauses and a later pass continues (never the final pass).

    TLS certificates are verified; ``ca_file`` (a PEM file, relative to the spec's folder)
    is the CA to trust for a private CA, and ``tls_verify: false`` accepts any certificate
    (an old self-signed server), which every report then warns about.
    """

    provider: Provider = "generic"
    host: str = Field(pattern=_HOST_RE.pattern)
    port: Port = 993
    tls: TLSMode = TLSMode.IMPLICIT
    tls_verify: bool = True
    ca_file: Path | None = None
    auth: SourceAuth = SourceAuth()
    connections: int | None = Field(
        default=None,
        ge=1,
        le=200,
        description="Connections to one source host at once (over all workers); default "
        "migration.connections_per_source_host.",
    )
    max_messages_per_second: Rate | None = None
    max_bytes_per_second: Rate | None = None
    host_max_messages_per_second: Rate | None = None
    host_max_bytes_per_second: Rate | None = None
    daily_download_mb: int | None = Field(default=None, ge=1)
    folder_hints: dict[str, str] = Field(
        default_factory=dict,
        description="Provider folder names and where they go; migration.folder_renames wins.",
    )

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        """Fill what the spec leaves out from the provider's preset (the spec wins)."""
        if not isinstance(data, dict):
            return data
        preset = PROVIDER_PRESETS.get(str(data.get("provider", "generic")), {})
        filled = {k: v for k, v in preset.items() if k != "auth_mode" and k not in data}
        mode = preset.get("auth_mode")
        # The provider's login mode, once the spec knows it (OAuth modes: issue 10, part A).
        if mode in get_args(SourceAuth.model_fields["mode"].annotation) and "auth" not in data:
            filled["auth"] = {"mode": mode}
        return {**filled, **data}

    @property
    def rate_limited(self) -> bool:
        """True when any per-mailbox or per-host rate is set."""
        return any(
            v is not None
            for v in (
                self.max_messages_per_second,
                self.max_bytes_per_second,
                self.host_max_messages_per_second,
                self.host_max_bytes_per_second,
            )
        )


class MigrationSettings(_Model):
    """Whether and how to copy the old mailboxes."""

    enabled: bool = False
    source: SourceServer | None = None
    exclude_trash_and_junk: bool = False
    exclude_folders: tuple[str, ...] = ()
    folder_renames: dict[str, str] = Field(default_factory=dict)
    max_message_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    parallel_mailboxes: int = Field(default=4, ge=1, le=64)
    connections_per_source_host: int = Field(default=10, ge=1, le=200)
    state_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the sync state; default sqlite in <output_dir>/<slug>/.",
    )
    task_retries: int = Field(default=3, ge=0, le=20)
    retry_backoff_seconds: float = Field(default=10.0, ge=0, le=3600)
    reconnect_retries: int = Field(
        default=5, ge=0, le=50, description="Reconnects inside one task attempt before it fails."
    )
    byte_budget_per_pass_mb: int | None = Field(
        default=None,
        ge=1,
        description="Stop copying a mailbox after this many MB in one pass; the next continues. "
        "Never applies to the final pass.",
    )
    bad_item_limit: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description="Failed or skipped items per mailbox a pass may leave, beyond those an "
        "operator approved, before the mailbox (and the pass) counts as failed (BadItemLimit).",
    )
    since: date | None = Field(
        default=None,
        description="Copy only mail dated on or after this day (UTC INTERNALDATE); the rest is "
        "left for a pass with a wider window. `onboard migrate --since` overrides it per run.",
    )
    before: date | None = Field(
        default=None, description="Copy only mail dated before this day (UTC INTERNALDATE)."
    )
    batch_size: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="Mailboxes per batch when a deployment run migrates more than this many: "
        "each batch is a child flow run of the migrate-batch deployment on any worker of the "
        "pool. Up to this many mailboxes (and every local `onboard migrate`) run in one process.",
    )
    slot_wait_seconds: float = Field(
        default=1800.0,
        gt=0,
        le=7 * 86400,
        description="How long a mailbox waits for a source-connection or pair slot before its "
        "task fails, naming the run that holds it.",
    )
    preflight_sample_mb: float = Field(
        default=2.0,
        ge=0,
        le=1024,
        description="How much mail preflight reads per user to measure the source's speed.",
    )

    @model_validator(mode="after")
    def _source_when_enabled(self) -> MigrationSettings:
        if self.enabled and self.source is None:
            raise ValueError("migration is enabled, so source (the old IMAP server) is required")
        if self.since is not None and self.before is not None and self.since >= self.before:
            raise ValueError(f"since ({self.since}) must be a day before before ({self.before})")
        return self


class HostedService(_Model):
    """Where the hosted mailboxes and the gateway live (MailRoute in production, the lab here)."""

    imap_host: str = "imap.mailroute.net"
    imap_port: Port = 993
    imap_tls: TLSMode = TLSMode.IMPLICIT
    smtp_host: str = "mail.mailroute.net"
    smtp_port: Port = 25
    mx_hosts: tuple[MailServer, ...] = (MailServer(host="mail.mailroute.net", priority=10),)
    spf_include: str = "spf.mailroute.net"
    outbound_ips: tuple[str, ...] = ()
    # Public names mail clients are given (RFC 6186 SRV targets, autoconfig/autodiscover).
    client_imap_host: str = "imap.mailroute.net"
    client_submission_host: str = "smtp.mailroute.net"
    autoconfig_host: str = "autoconfig.mailroute.net"
    autodiscover_host: str = "autodiscover.mailroute.net"
    # How clients reach the autoconfig/autodiscover hosts: HTTPS on 443 in production; the lab
    # serves plain HTTP on a loopback port. ``verify`` fetches the files this way.
    client_config_scheme: Literal["https", "http"] = "https"
    client_config_port: Port | None = None
    webmail_url: str = Field(
        default="https://webmail.mailroute.net",
        pattern=r"^https?://[^\s]+$",
        description="Where users read mail in a browser (named in the client guides).",
    )
    # Where the gateway delivers a domain's mail once it is cut over: the hosted mailboxes'
    # LMTP/SMTP entry (a mail_server entry plus the domain's deliveryport). Working assumption
    # for production; the lab uses the destination Dovecot's LMTP.
    delivery_host: str = Field(default="hosted.mailroute.net", pattern=_HOST_RE.pattern)
    delivery_port: Port = 25
    # The hosted submission service users' clients send through (and the notices go out by):
    # where we connect; clients are given ``client_submission_host``.
    submission_host: str = Field(default="smtp.mailroute.net", pattern=_HOST_RE.pattern)
    submission_port: Port = 587
    submission_tls: TLSMode = TLSMode.STARTTLS


_EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class SupportContacts(_Model):
    """Who the customer writes to; named in every customer-facing document."""

    technical: str = Field(default="support@mailroute.net", pattern=_EMAIL_RE)
    account_management: str = Field(default="sales@mailroute.net", pattern=_EMAIL_RE)


class ControlPanelSettings(_Model):
    """The MailRoute control-panel API and the Secret block holding ``login:key``."""

    base_url: str = "https://admin.mailroute.net"
    api_key_secret: SecretName = "mailroute-api-key"
    concurrency: int = Field(default=4, ge=1, le=32)


class DNSSettings(_Model):
    """How we look at the customer's DNS and what we ask them to publish."""

    resolvers: tuple[str, ...] = ("1.1.1.1", "8.8.8.8", "9.9.9.9")
    nameservers: tuple[str, ...] = Field(
        default=(),
        description="Authoritative servers as host or host:port; empty = discover from NS records.",
    )
    dkim_selector: str = "mr1"
    dmarc_policy: Literal["none", "quarantine", "reject"] = "none"
    dmarc_rua: str | None = None
    timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    old_spf_includes: tuple[str, ...] = Field(
        default=(),
        description="SPF include targets of the old provider, to remove after the cutover.",
    )


class CutoverSettings(_Model):
    """When the cutover may happen and who must approve it."""

    ttl_multiple: float = Field(default=2.0, ge=1.0, le=10.0)
    require_approval: bool = True
    approval_timeout_hours: float = Field(default=72.0, gt=0)
    probe_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="How long a mail-flow probe may take to reach the hosted mailbox.",
    )
    test_accounts: tuple[str, ...] = Field(
        default=(),
        description="Addresses from the user list proven to work (IMAP login, authenticated "
        "send on the submission service, receipt) before approval; empty = the first user "
        "of each domain.",
    )

    @field_validator("test_accounts")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"must be email addresses from the user list, got {bad[0]!r}")
        return tuple(a.strip().lower() for a in value)

    catchup_after_hours: tuple[float, ...] = Field(
        default=(1.0, 24.0),
        description="Incremental passes after the cutover (hours after it), for mail still "
        "delivered to the old server; empty for none.",
    )

    @field_validator("catchup_after_hours")
    @classmethod
    def _positive_hours(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(h <= 0 for h in value):
            raise ValueError("every catch-up delay must be more than 0 hours")
        return tuple(sorted(set(value)))


class NoticeSettings(_Model):
    """Mail to every user around the cutover, sent through the hosted submission service.

    ``before_cutover``: what changes, when, what to do and the new settings, sent once the
    cutover is ready and before it asks for approval; ``welcome``: the new settings, the
    user's aliases and where to get help, after it. Sent from ``sender``, a hosted account
    whose password is the Secret block ``sender_secret``; never a password in any mail.
    """

    before_cutover: bool = False
    welcome: bool = False
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    sender: str = Field(default="onboarding@mailroute.net", pattern=r"^[^@\s]+@[^@\s]+$")
    sender_name: str = "MailRoute Onboarding"
    sender_secret: SecretName = "mailroute-notices"
    cutover_window: str | None = Field(
        default=None,
        description="When the cutover happens, in the customer's words and language (e.g. "
        "'Saturday 27 November, 22:00-23:00 CET'); default: the earliest safe time, UTC.",
    )
    guide: str | None = Field(
        default=None, description="Where users find the setup guide (a URL or a sentence)."
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in languages():
            raise ValueError(f"must be one of {', '.join(languages())} (notice templates)")
        return value


class FollowUpSettings(_Model):
    """The post-cutover re-check (runbook: again 48 h later)."""

    after_hours: float = Field(default=48.0, gt=0)

    @property
    def delay(self) -> timedelta:
        return timedelta(hours=self.after_hours)


class PrefectServer(_Model):
    """Which Prefect API the customer belongs to: the one source of its secrets and state."""

    api_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description=(
            "The team's Prefect API (e.g. https://prefect.ops.example/api) whose Secret blocks "
            "hold this customer's DKIM keys and secrets; runs elsewhere refuse to touch them."
        ),
    )


class OnboardingSpec(_Model):
    """Everything about one customer's onboarding, as read from customer.yaml."""

    customer: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    reseller: str = Field(min_length=1)
    domains: tuple[DomainSpec, ...] = Field(min_length=1)
    users_csv: Path
    accounts: AccountMode = AccountMode.CREATE
    send_welcome: bool = False
    password_policy: PasswordPolicy = PasswordPolicy()
    migration: MigrationSettings = MigrationSettings()
    hosted: HostedService = HostedService()
    controlpanel: ControlPanelSettings = ControlPanelSettings()
    dns: DNSSettings = DNSSettings()
    cutover: CutoverSettings = CutoverSettings()
    notices: NoticeSettings = NoticeSettings()
    followup: FollowUpSettings = FollowUpSettings()
    support: SupportContacts = SupportContacts()
    prefect: PrefectServer = PrefectServer()
    output_dir: Path = Field(
        default=Path("runs"),
        description="Run folders, state DB and cutover ledger; relative to the spec's folder.",
    )
    allow_plaintext: bool = Field(
        default=False,
        description="Accept tls: none / http:// to hosts that are not loopback (every run warns).",
    )
    spec_path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique_domains(self) -> OnboardingSpec:
        names = [d.name for d in self.domains]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"domains listed twice: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _no_cleartext_credentials(self) -> OnboardingSpec:
        """Passwords and the API key travel encrypted unless the host is loopback, or the
        spec says ``allow_plaintext: true`` (:mod:`onboarding.tls` decides, in one place)."""
        allow = self.allow_plaintext
        found = [
            url_problem(self.controlpanel.base_url, "controlpanel.base_url", allow_plaintext=allow),
            plaintext_problem(
                "hosted.imap_tls",
                self.hosted.imap_tls.value,
                self.hosted.imap_host,
                allow_plaintext=allow,
            ),
        ]
        source = self.migration.source
        if source is not None:
            found.append(
                plaintext_problem(
                    "migration.source.tls", source.tls.value, source.host, allow_plaintext=allow
                )
            )
        problems = [p for p in found if p]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def plaintext_warning(self) -> str | None:
        """The warning every run of this spec reports, when ``allow_plaintext`` is on."""
        return PLAINTEXT_WARNING if self.allow_plaintext else None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What every report of this spec names: plaintext allowed, TLS not verified."""
        found = [self.plaintext_warning] if self.plaintext_warning else []
        source = self.migration.source
        if source is not None and not source.tls_verify and source.tls != TLSMode.NONE:
            found.append(unverified_warning("migration.source", source.host))
        return tuple(found)

    @property
    def customer_slug(self) -> str:
        """The slug used in artifact keys and run folders (``user-validation-<slug>``)."""
        return self.slug or slugify(self.customer)

    @property
    def domain_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.domains)


def _find_inline_secrets(node: Any, path: str = "") -> list[str]:
    """Return the YAML paths of keys that hold a secret value instead of a block name."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _INLINE_SECRET_KEYS and not isinstance(value, dict | list):
                found.append(here)
            found.extend(_find_inline_secrets(value, here))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_find_inline_secrets(value, f"{path}[{i}]"))
    return found


_NUMBER_ERRORS = {
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "float_type",
    "greater_than_equal",
    "less_than_equal",
    "greater_than",
    "less_than",
}
_INT_RANGES: dict[str, tuple[int, int]] = {"priority": (0, 65535), "port": (1, 65535)}


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union")) or part in {"int", "str"}:
            continue
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _is_secret_field(loc: tuple[int | str, ...]) -> bool:
    """True when the error is about a field that names or may hold a secret."""
    return any(
        isinstance(part, str) and (part.endswith("_secret") or part.lower() in _INLINE_SECRET_KEYS)
        for part in loc
    )


_SECRET_FIELD_PROBLEM = (
    "must be the name of a Prefect Secret block (lowercase letters, digits and dashes, at "
    "most 63 characters), not the secret itself; store the value in a Secret block and put "
    "the block's name here (the value is not shown)"
)


def _describe(error: Any) -> str:
    kind = error["type"]
    if _is_secret_field(error["loc"]):
        # A key or password pasted here must not reach the error, the logs or the state.
        if kind in {"string_pattern_mismatch", "string_type", "value_error", "string_too_long"}:
            return _SECRET_FIELD_PROBLEM
        if kind == "missing":
            return "is required but missing"
        if kind == "extra_forbidden":
            return "is not a known setting; check the spelling (see examples/acme/customer.yaml)"
        return f"is not valid ({kind}); the value is not shown because it may be a secret"
    given = error.get("input")
    ctx = error.get("ctx") or {}
    got = f", got {given!r}" if not isinstance(given, dict | list) else ""
    got = got.replace("'", '"')
    if kind in _NUMBER_ERRORS:
        field = next((p for p in reversed(error["loc"]) if isinstance(p, str)), "")
        lo, hi = _INT_RANGES.get(field, (ctx.get("ge"), ctx.get("le")))
        rng = f" {lo}-{hi}" if lo is not None and hi is not None else ""
        if lo is not None and hi is None:
            rng = f" of at least {lo}"
        noun = "a number" if kind.startswith("float") else "an integer"
        return f"must be {noun}{rng}{got}"
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known setting; check the spelling (see examples/acme/customer.yaml)"
    if kind == "enum":
        return f"must be one of {ctx.get('expected')}{got}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{got}"
    if kind == "string_pattern_mismatch":
        return f"has the wrong format (expected pattern {ctx.get('pattern')}){got}"
    if kind == "bool_parsing":
        return f"must be true or false{got}"
    if kind == "too_short":
        return "must list at least one entry"
    msg = str(error["msg"]).removeprefix("Value error, ")
    return f"{msg}{got if kind != 'value_error' else ''}"


def parse_spec(data: Any, *, path: Path) -> OnboardingSpec:
    """Validate already-parsed YAML data; relative paths are resolved against ``path``'s folder."""
    if not isinstance(data, dict):
        raise SpecError(
            f"{path}: the file must be a YAML mapping (customer: ..., domains: ...)", path=path
        )
    inline = _find_inline_secrets(data)
    problems = [
        f"{where}: looks like an inline secret; store it in a Prefect Secret block and put the "
        "block name in the matching *_secret field instead"
        for where in inline
    ]
    spec: OnboardingSpec | None = None
    try:
        spec = OnboardingSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        deeper = {e["loc"][:i] for e in errors for i in range(len(e["loc"]))}
        for e in errors:
            where = _format_loc(e["loc"])
            if e["type"] == "too_short" and e["loc"] in deeper:
                continue  # the item's own error says more than "list too short"
            if e["type"] == "extra_forbidden" and where in inline:
                continue
            problems.append(f"{where}: {_describe(e)}")
    if problems or spec is None:
        listing = "\n".join(f"  {p}" for p in problems)
        raise SpecError(
            f"{path}: {len(problems)} problem(s) in the customer spec:\n{listing}",
            path=path,
            problems=tuple(problems),
        )
    # Relative paths belong to the customer's folder, not to wherever a command runs from:
    # the state DB, the cutover ledger and the noted MX TTL must not move with the cwd.
    base = path.absolute().parent
    users = base / spec.users_csv
    output = base / spec.output_dir
    update: dict[str, Any] = {"users_csv": users, "output_dir": output, "spec_path": path}
    source = spec.migration.source
    if source is not None and source.ca_file is not None:
        ca_file = base / source.ca_file
        if not ca_file.is_file():
            raise SpecError(
                f"{path}: migration.source.ca_file: {ca_file} is not a file; give the path of "
                "the source server's CA certificate (PEM), relative to the spec's folder",
                path=path,
            )
        migration = spec.migration.model_copy(
            update={"source": source.model_copy(update={"ca_file": ca_file})}
        )
        update["migration"] = migration
    return spec.model_copy(update=update)


def load_spec(path: str | Path) -> OnboardingSpec:
    """Read and validate customer.yaml; raise :class:`SpecError` naming every problem.

    The file must be a regular file of at most :data:`MAX_SPEC_BYTES`; its YAML is parsed
    with limits on nesting, alias expansion and value length, and a key written twice is an
    error (:mod:`validation._yaml`).
    """
    path = Path(path)
    logger.debug("reading the customer spec %s", path)  # once per flow run: the tests count it
    try:
        data = read_bounded(path, max_bytes=MAX_SPEC_BYTES, what="the customer's YAML spec")
    except FileRefused as exc:
        raise SpecError(f"{path}: {exc}", path=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text; re-save it as UTF-8", path=path) from None
    try:
        parsed = load_yaml(text)
    except YAMLRefused as exc:
        raise SpecError(f"{path}: {exc}", path=path) from None
    return parse_spec(parsed, path=path)
