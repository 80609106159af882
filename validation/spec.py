"""The customer spec (``customer.yaml``): one file describes one customer's onboarding.

``load_spec(path)`` returns an :class:`OnboardingSpec` or raises :class:`SpecError` whose
message lists every problem as ``<yaml path>: <what is expected>``, for example::

    customer.yaml: domains[1].mail_servers[0].priority: must be an integer 0-65535, got "high"

Secrets are never written in the file: the spec names a Prefect Secret block
(``*_secret`` fields); a key that looks like an inline secret (``password``, ``api_key``,
``secret``, ``token``) is an error that says which block field to use instead.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from onboarding import OnboardingError
from onboarding.tls import PLAINTEXT_WARNING, plaintext_problem, url_problem

__all__ = [
    "AccountMode",
    "ControlPanelSettings",
    "CutoverSettings",
    "DNSSettings",
    "DomainSpec",
    "FollowUpSettings",
    "HostedService",
    "MailServer",
    "MigrationSettings",
    "OnboardingSpec",
    "PasswordPolicy",
    "SourceAuth",
    "SourceServer",
    "SpecError",
    "TLSMode",
    "load_spec",
    "slugify",
]

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
    """A customer domain and where its mail goes today."""

    name: str
    mail_servers: tuple[MailServer, ...] = Field(min_length=1)
    delivery_port: int = Field(default=25, ge=1, le=65535)

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
    new password when absent). ``master``: one admin login (Dovecot master user style
    ``user*admin``) whose password is the Prefect Secret block ``password_secret``.
    """

    mode: Literal["user", "master"] = "user"
    master_user: str | None = None
    password_secret: SecretName | None = None
    master_separator: str = "*"

    @model_validator(mode="after")
    def _master_needs_login(self) -> SourceAuth:
        if self.mode == "master" and not (self.master_user and self.password_secret):
            raise ValueError(
                "mode 'master' needs master_user and password_secret (a Prefect Secret block name)"
            )
        return self


class SourceServer(_Model):
    """The customer's old IMAP server."""

    host: str = Field(pattern=_HOST_RE.pattern)
    port: Port = 993
    tls: TLSMode = TLSMode.IMPLICIT
    auth: SourceAuth = SourceAuth()


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
        description="Stop copying a mailbox after this many MB in one pass; the next continues.",
    )

    @model_validator(mode="after")
    def _source_when_enabled(self) -> MigrationSettings:
        if self.enabled and self.source is None:
            raise ValueError("migration is enabled, so source (the old IMAP server) is required")
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
    # Where the gateway delivers a domain's mail once it is cut over: the hosted mailboxes'
    # LMTP/SMTP entry (a mail_server entry plus the domain's deliveryport). Working assumption
    # for production; the lab uses the destination Dovecot's LMTP.
    delivery_host: str = Field(default="hosted.mailroute.net", pattern=_HOST_RE.pattern)
    delivery_port: Port = 25


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


class FollowUpSettings(_Model):
    """The post-cutover re-check (runbook: again 48 h later)."""

    after_hours: float = Field(default=48.0, gt=0)

    @property
    def delay(self) -> timedelta:
        return timedelta(hours=self.after_hours)


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
    followup: FollowUpSettings = FollowUpSettings()
    output_dir: Path = Path("runs")
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


def _describe(error: Any) -> str:
    kind = error["type"]
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
    base = path.parent
    users = spec.users_csv if spec.users_csv.is_absolute() else base / spec.users_csv
    return spec.model_copy(update={"users_csv": users, "spec_path": path})


def load_spec(path: str | Path) -> OnboardingSpec:
    """Read and validate customer.yaml; raise :class:`SpecError` naming every problem."""
    path = Path(path)
    if not path.exists():
        raise SpecError(
            f"{path}: no such file; pass the path of the customer's YAML spec", path=path
        )
    if path.is_dir():
        raise SpecError(f"{path}: is a folder; pass the customer's YAML file inside it", path=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text; re-save it as UTF-8", path=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(
            f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}", path=path
        ) from exc
    return parse_spec(data, path=path)
