"""The resources the lab control panel serves, described as data (contract §2).

Each :class:`ResourceDef` drives the SQLite table, the ``/schema/`` document, input
validation, filters and ordering, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RESOURCES", "FieldDef", "ResourceDef"]

ALL = 1
ALL_WITH_RELATIONS = 2


@dataclass(frozen=True)
class FieldDef:
    """One field. ``kind`` is string, integer, boolean or related (a URI to ``to``)."""

    name: str
    kind: str = "string"
    required: bool = False
    readonly: bool = False
    nullable: bool = False
    unique: bool = False
    default: Any = None
    writeonly: bool = False  # accepted on write, always read back as null (create_opt)
    stored: bool = True  # False: never a column (password, confirm_password)
    to: str | None = None  # related resource name
    help_text: str = ""

    @property
    def column(self) -> bool:
        return self.stored and not self.writeonly


@dataclass(frozen=True)
class ResourceDef:
    """A resource: its fields, what may be filtered/ordered, and its natural (unique) key."""

    name: str
    fields: tuple[FieldDef, ...]
    filtering: dict[str, Any] = field(default_factory=dict)
    ordering: tuple[str, ...] = ()
    natural_key: tuple[str, ...] = ()
    list_methods: tuple[str, ...] = ("get", "post")
    detail_methods: tuple[str, ...] = ("get", "put", "patch", "delete")

    def get(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def columns(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields if f.column)

    @property
    def relations(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields if f.kind == "related" and f.column)

    def schema(self) -> dict[str, Any]:
        """Return the tastypie-style ``/schema/`` document (contract §1)."""
        fields: dict[str, Any] = {}
        for f in self.fields:
            fields[f.name] = {
                "type": f.kind,
                "nullable": f.nullable,
                "readonly": f.readonly,
                "blank": not f.required,
                "unique": f.unique,
                "default": f.default,
                "help_text": f.help_text,
            }
        for name in ("id", "resource_uri", "created_at", "updated_at"):
            fields.setdefault(
                name,
                {
                    "type": "integer" if name == "id" else "string",
                    "nullable": False,
                    "readonly": True,
                    "blank": False,
                    "unique": name in ("id", "resource_uri"),
                    "default": None,
                    "help_text": "",
                },
            )
        return {
            "fields": fields,
            "filtering": self.filtering,
            "ordering": list(self.ordering),
            "allowed_list_http_methods": list(self.list_methods),
            "allowed_detail_http_methods": list(self.detail_methods),
            "default_limit": 20,
            "default_format": "application/json",
        }


def _f(name: str, **kw: Any) -> FieldDef:
    return FieldDef(name, **kw)


RESOURCES: dict[str, ResourceDef] = {
    r.name: r
    for r in (
        ResourceDef(
            "reseller",
            (
                _f("name", required=True, unique=True),
                _f("allow_branding", kind="boolean", default=False),
                _f("allow_customer_branding", kind="boolean", default=False),
            ),
            filtering={"name": ALL},
            ordering=("name", "created_at"),
            natural_key=("name",),
        ),
        ResourceDef(
            "customer",
            (
                _f("name", required=True, unique=True),
                _f("reseller", kind="related", to="reseller", required=True),
                _f("allow_branding", kind="boolean", default=False),
                _f("is_full_user_list", kind="boolean", default=False),
                _f("reported_user_count", kind="integer", nullable=True),
            ),
            filtering={"name": ALL, "reseller": ["exact"]},
            ordering=("name", "created_at"),
            natural_key=("name",),
        ),
        ResourceDef(
            "domain",
            (
                _f("name", required=True, unique=True),
                _f("customer", kind="related", to="customer", required=True),
                _f("active", kind="boolean", default=True),
                _f("hold_email", kind="boolean", default=False),
                _f("deliveryport", kind="integer", default=25),
                _f("bounce_unlisted", kind="boolean", default=False),
                _f("outbound_enabled", kind="boolean", default=False),
            ),
            filtering={"name": ALL, "customer": ALL_WITH_RELATIONS},
            ordering=("name", "created_at", "active", "hold_email"),
            natural_key=("name",),
            detail_methods=("get", "put", "delete"),
        ),
        ResourceDef(
            "mail_server",
            (
                _f("server", required=True),
                _f("domain", kind="related", to="domain", required=True),
                _f("priority", kind="integer", default=10),
                _f("use_sasl", kind="boolean", default=False),
                _f("sasl_login", nullable=True),
                _f("sasl_password", nullable=True, writeonly=True),
            ),
            filtering={"domain": ["exact"]},
            ordering=("server", "priority"),
            natural_key=("domain", "server"),
        ),
        ResourceDef(
            "email_account",
            (
                _f("localpart", required=True),
                _f("domain", kind="related", to="domain", required=True),
                _f("create_opt", nullable=True, writeonly=True),
                _f("password", writeonly=True, stored=False, nullable=True),
                _f("confirm_password", writeonly=True, stored=False, nullable=True),
                _f("change_pwd", nullable=True, writeonly=True),
                _f("send_welcome", kind="boolean", default=False, writeonly=True),
                _f("priority", kind="integer", default=8),
                _f("use_domain_notifications", kind="boolean", default=True),
                _f("domain_name", readonly=True, stored=False),
                _f("aliases", readonly=True, stored=False),
            ),
            filtering={"localpart": ALL, "domain": ALL_WITH_RELATIONS, "id": ["in"]},
            ordering=("localpart", "priority", "domain", "created_at"),
            natural_key=("domain", "localpart"),
        ),
        ResourceDef(
            "localpart_alias",
            (
                _f("localpart", required=True),
                _f("email_account", kind="related", to="email_account", required=True),
                _f("domain", kind="related", to="domain", readonly=True, stored=False),
                _f("type", default="alias"),
            ),
            filtering={"email_account": ["exact"]},
            ordering=("localpart", "created_at", "updated_at"),
            natural_key=("email_account", "localpart"),
        ),
        ResourceDef(
            "domain_alias",
            (
                _f("name", required=True, unique=True),
                _f("domain", kind="related", to="domain", required=True),
                _f("active", kind="boolean", default=True),
            ),
            filtering={"domain": ["exact"]},
            ordering=("name", "created_at"),
            natural_key=("name",),
        ),
    )
}
