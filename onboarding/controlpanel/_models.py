"""Typed views of the control-panel resources (MailRoute API contract §2).

Objects read from the server are frozen pydantic models that ignore fields they do not
know (the live API adds fields over time). ``New*`` models are what we send on create;
they hold passwords as :class:`pydantic.SecretStr`, so a ``repr`` or log line never shows one.
Relations are resource URIs such as ``"/api/v1/customer/157/"`` (contract §1: always send
full URIs, never bare ids).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "Customer",
    "Domain",
    "DomainAlias",
    "EmailAccount",
    "FieldSchema",
    "LocalpartAlias",
    "MailServer",
    "NewCustomer",
    "NewDomain",
    "NewDomainAlias",
    "NewEmailAccount",
    "NewLocalpartAlias",
    "NewMailServer",
    "NewReseller",
    "Reseller",
    "ResourceSchema",
    "uri_id",
]

_URI_ID = re.compile(r"/(\d+)/?$")


def uri_id(uri: str) -> int:
    """Return the numeric id at the end of a resource URI (``/api/v1/domain/111/`` → 111)."""
    match = _URI_ID.search(uri)
    if not match:
        raise ValueError(f"not a resource URI with a numeric id: {uri!r}")
    return int(match.group(1))


class _Read(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    resource: ClassVar[str]

    id: int
    resource_uri: str


class _New(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    resource: ClassVar[str]

    def body(self) -> dict[str, Any]:
        """Return the JSON body to send, secrets revealed (only the client calls this)."""
        data: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            data[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return data


# The fields a create sends, once per resource: the ``New*`` model is ``_New`` plus them, the
# model read back is ``_Read`` plus them plus what only the server sets or reports.


class _ResellerFields(BaseModel):
    resource: ClassVar[str] = "reseller"
    name: str


class _CustomerFields(BaseModel):
    resource: ClassVar[str] = "customer"
    name: str
    reseller: str


class _DomainFields(BaseModel):
    resource: ClassVar[str] = "domain"
    name: str
    customer: str
    hold_email: bool = False
    deliveryport: int = 25
    active: bool = True
    outbound_enabled: bool = False


class _MailServerFields(BaseModel):
    resource: ClassVar[str] = "mail_server"
    domain: str
    server: str
    priority: int = 10


class _EmailAccountFields(BaseModel):
    resource: ClassVar[str] = "email_account"
    domain: str
    localpart: str


class _LocalpartAliasFields(BaseModel):
    resource: ClassVar[str] = "localpart_alias"
    email_account: str
    localpart: str


class _DomainAliasFields(BaseModel):
    resource: ClassVar[str] = "domain_alias"
    domain: str
    name: str
    active: bool = True


class Reseller(_Read, _ResellerFields):
    """A reseller: owns customers (contract §2.1)."""

    allow_branding: bool = False
    allow_customer_branding: bool = False


class Customer(_Read, _CustomerFields):
    """A customer of a reseller; ``name`` is unique platform-wide (contract §2.2)."""

    allow_branding: bool = False
    is_full_user_list: bool = False
    reported_user_count: int | None = None


class Domain(_Read, _DomainFields):
    """A customer domain; ``hold_email`` queues mail, ``deliveryport`` is the inbound port."""

    bounce_unlisted: bool = False


class MailServer(_Read, _MailServerFields):
    """Where filtered mail for a domain is delivered; the lowest ``priority`` is tried first."""

    use_sasl: bool = False
    sasl_login: str | None = None


class EmailAccount(_Read, _EmailAccountFields):
    """A hosted mailbox ``localpart@domain``; passwords are write-only and never read back."""

    domain_name: str | None = None
    priority: int | None = None
    use_domain_notifications: bool = True
    aliases: str = ""


class LocalpartAlias(_Read, _LocalpartAliasFields):
    """Another localpart delivering to an email account (contract §2.7)."""

    domain: str | None = None
    type: str = "alias"


class DomainAlias(_Read, _DomainAliasFields):
    """Another domain name behaving exactly like its parent domain (contract §2.8)."""


class NewReseller(_New, _ResellerFields):
    pass


class NewCustomer(_New, _CustomerFields):
    pass


class NewDomain(_New, _DomainFields):
    pass


class NewMailServer(_New, _MailServerFields):
    pass


class NewEmailAccount(_New, _EmailAccountFields):
    """An account to create. With a password, ``create_opt`` is the caller-supplied mode.

    Contract §6.6: the value naming "I supply the password" is ``create_pwd`` (2013 KB) or
    ``set_pwd`` (client notes); the client sends ``confirm_password`` equal to ``password``.
    """

    password: SecretStr | None = None
    create_opt: str = "create_pwd"
    send_welcome: bool = False

    def body(self) -> dict[str, Any]:
        data = super().body()
        if self.password is None:
            data.pop("password")
            data["create_opt"] = "generate_pwd"
        else:
            data["confirm_password"] = data["password"]
        return data


class NewLocalpartAlias(_New, _LocalpartAliasFields):
    pass


class NewDomainAlias(_New, _DomainAliasFields):
    pass


class FieldSchema(BaseModel):
    """One field as ``/api/v1/<resource>/schema/`` describes it."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    type: str = "string"
    nullable: bool = False
    readonly: bool = False
    blank: bool = False
    unique: bool = False
    default: Any = None
    help_text: str = ""


class ResourceSchema(BaseModel):
    """What the server says about a resource: its fields, filters and allowed methods."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    fields: dict[str, FieldSchema]
    filtering: dict[str, Any] = Field(default_factory=dict)
    ordering: tuple[str, ...] = ()
    allowed_list_http_methods: tuple[str, ...] = ()
    allowed_detail_http_methods: tuple[str, ...] = ()
    default_limit: int = 20

    def writable(self) -> frozenset[str]:
        """Return the names of fields a client may send (not read-only)."""
        return frozenset(name for name, f in self.fields.items() if not f.readonly)
