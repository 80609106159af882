"""The lab control panel's behaviour, independent of HTTP: validate, store, apply to the lab.

Methods return JSON-ready dicts or raise :class:`ApiError` carrying the status and body the
contract documents (400 ``{"<resource>": {"field": ["msg"]}}``, 404 with no body). Writes are
serialised by one lock so the database and the lab (routes, holds, logins) move together; a
lab failure undoes the database change and answers 500.
"""

from __future__ import annotations

import email.utils
import logging
import re
import secrets
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from lab.controlpanel._effects import AccountLogin, LabEffects, lmtp_transport
from lab.controlpanel._passwords import hash_password
from lab.controlpanel._resources import ALL_WITH_RELATIONS, RESOURCES, FieldDef, ResourceDef
from lab.controlpanel._store import LOOKUPS, Condition, Store, UniqueViolation

__all__ = ["API_ROOT", "ApiError", "Service"]

log = logging.getLogger(__name__)

API_ROOT = "/api/v1/"
MAX_LIMIT = 1000
_CONTROL_PARAMS = frozenset({"limit", "offset", "order_by", "format", "username", "api_key"})
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_LOCALPART_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")
_CREATE_OPTS = ("generate_pwd", "create_pwd", "set_pwd")
_URI_RE = re.compile(r"^/api/v1/(?P<res>[a-z_]+)/(?P<id>\d+)/?$")
_ERROR_500 = {
    "error_message": "Sorry, this request could not be processed. Please try again later."
}


class ApiError(Exception):
    """An HTTP error answer: ``status`` and an optional JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _title(res: ResourceDef) -> str:
    return res.name.replace("_", " ").capitalize()


def _rfc2822(iso: str) -> str:
    return email.utils.format_datetime(datetime.fromisoformat(iso))


class Service:
    """CRUD over the resources, applied to the lab through ``effects``."""

    def __init__(self, store: Store, effects: LabEffects) -> None:
        self.store = store
        self.effects = effects
        self._write = threading.Lock()
        self._applied: dict[int, tuple[str, str | None, bool]] = {}  # domain id -> state

    # -- documents ------------------------------------------------------------------------

    @staticmethod
    def root() -> dict[str, Any]:
        return {
            name: {"list_endpoint": f"{API_ROOT}{name}/", "schema": f"{API_ROOT}{name}/schema/"}
            for name in RESOURCES
        }

    @staticmethod
    def resource(name: str) -> ResourceDef:
        res = RESOURCES.get(name)
        if res is None:
            raise ApiError(404)
        return res

    def render(self, res: ResourceDef, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return rows as API objects: related ids as URIs, write-only fields null."""
        extra = self._derived(res, rows)
        out = []
        for row in rows:
            obj: dict[str, Any] = {"id": row["id"]}
            for f in res.fields:
                if f.kind == "related" and f.column:
                    obj[f.name] = f"{API_ROOT}{f.to}/{row[f.name + '_id']}/"
                elif f.writeonly:
                    obj[f.name] = None
                elif f.column:
                    obj[f.name] = bool(row[f.name]) if f.kind == "boolean" else row[f.name]
            obj.update(extra.get(row["id"], {}))
            obj["resource_uri"] = f"{API_ROOT}{res.name}/{row['id']}/"
            obj["absolute_url"] = f"/{res.name}/{row['id']}/"
            obj["created_at"] = _rfc2822(row["created_at"])
            obj["updated_at"] = _rfc2822(row["updated_at"])
            out.append(obj)
        return out

    def _derived(
        self, res: ResourceDef, rows: Sequence[dict[str, Any]]
    ) -> dict[int, dict[str, Any]]:
        if not rows or res.name not in ("email_account", "localpart_alias"):
            return {}
        ids = [r["id"] for r in rows]
        marks = ", ".join("?" for _ in ids)
        if res.name == "localpart_alias":
            found = self.store.select(
                f"SELECT a.id, e.domain_id FROM localpart_alias a JOIN email_account e "
                f"ON e.id = a.email_account_id WHERE a.id IN ({marks})",
                ids,
            )
            return {r["id"]: {"domain": f"{API_ROOT}domain/{r['domain_id']}/"} for r in found}
        names = self.store.select(
            f"SELECT e.id, d.name FROM email_account e JOIN domain d ON d.id = e.domain_id "
            f"WHERE e.id IN ({marks})",
            ids,
        )
        aliases: dict[int, list[str]] = {}
        for r in self.store.select(
            f"SELECT email_account_id, localpart FROM localpart_alias "
            f"WHERE email_account_id IN ({marks}) ORDER BY localpart",
            ids,
        ):
            aliases.setdefault(r["email_account_id"], []).append(r["localpart"])
        return {
            r["id"]: {"domain_name": r["name"], "aliases": ",".join(aliases.get(r["id"], []))}
            for r in names
        }

    # -- reads ----------------------------------------------------------------------------

    def detail(self, name: str, key: str) -> dict[str, Any]:
        res = self.resource(name)
        row = self._row(res, key)
        return self.render(res, [row])[0]

    def _row(self, res: ResourceDef, key: str) -> dict[str, Any]:
        if key.isdigit():
            row = self.store.get(res, int(key))
        elif res.name == "email_account" and "@" in key:  # contract §2.6: by address
            localpart, _, domain = key.lower().rpartition("@")
            found = self.store.select(
                "SELECT e.* FROM email_account e JOIN domain d ON d.id = e.domain_id "
                "WHERE e.localpart = ? AND d.name = ?",
                (localpart, domain),
            )
            row = found[0] if found else None
        else:
            row = None
        if row is None:
            raise ApiError(404)
        return row

    def collection(self, name: str, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        res = self.resource(name)
        args = dict(params)
        limit = self._int_param(args, "limit", 20)
        offset = self._int_param(args, "offset", 0)
        limit = MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT)
        order_by = args.get("order_by")
        if order_by and order_by.lstrip("-") not in res.ordering:
            raise ApiError(
                400, {"error": f"No matching '{order_by.lstrip('-')}' field for ordering on."}
            )
        conditions = [
            self._condition(res, key, value) for key, value in params if key not in _CONTROL_PARAMS
        ]
        rows, total = self.store.query(
            res, conditions, order_by=order_by, limit=limit, offset=offset
        )

        def page(at: int) -> str:
            kept = [(k, v) for k, v in params if k not in ("limit", "offset")]
            return f"{API_ROOT}{name}/?{urlencode([*kept, ('limit', limit), ('offset', at)])}"

        return {
            "meta": {
                "limit": limit,
                "offset": offset,
                "total_count": total,
                "next": page(offset + limit) if offset + limit < total else None,
                "previous": page(max(offset - limit, 0)) if offset > 0 else None,
            },
            "objects": self.render(res, rows),
        }

    @staticmethod
    def _int_param(args: dict[str, str], key: str, default: int) -> int:
        raw = args.get(key)
        if raw is None:
            return default
        if not raw.isdigit():
            raise ApiError(
                400,
                {"error": f"Invalid {key} '{raw}' provided. Please provide a positive integer."},
            )
        return int(raw)

    def _condition(self, res: ResourceDef, key: str, raw: str) -> Condition:
        parts = key.split("__")
        name = parts[0]
        allowed = res.filtering.get(name)
        if allowed is None:
            raise ApiError(400, {"error": f"The '{name}' field does not allow filtering."})
        field = res.get(name) if name != "id" else FieldDef("id", kind="integer")
        assert field is not None
        rest = parts[1:]
        if field.kind == "related" and rest and rest[0] not in LOOKUPS:
            if allowed != ALL_WITH_RELATIONS:
                raise ApiError(400, {"error": f"Lookups are not allowed across '{name}'."})
            target = RESOURCES[str(field.to)]
            sub = target.get(rest[0])
            if sub is None or not sub.column or sub.kind == "related":
                raise ApiError(400, {"error": f"'{rest[0]}' is not a field of {target.name}."})
            lookup = rest[1] if len(rest) > 1 else "exact"
            self._check_lookup(lookup, ALL_WITH_RELATIONS, key)
            value = self._filter_value(sub, lookup, raw, key, target.name)
            return Condition(sub.name, lookup, value, via=(f"{name}_id", target.name))
        lookup = rest[0] if rest else "exact"
        self._check_lookup(lookup, allowed, key)
        column = f"{name}_id" if field.kind == "related" else name
        return Condition(column, lookup, self._filter_value(field, lookup, raw, key, res.name))

    @staticmethod
    def _check_lookup(lookup: str, allowed: Any, key: str) -> None:
        if lookup not in LOOKUPS:
            raise ApiError(400, {"error": f"'{lookup}' is not an allowed filter on '{key}'."})
        if isinstance(allowed, list) and lookup not in allowed:
            raise ApiError(400, {"error": f"'{lookup}' is not an allowed filter on '{key}'."})

    def _filter_value(self, field: FieldDef, lookup: str, raw: str, key: str, res: str) -> Any:
        if lookup == "in":
            return [self._filter_value(field, "exact", v, key, res) for v in raw.split(",") if v]
        if lookup == "isnull":
            return raw.lower() in ("true", "1")
        if field.kind == "related":
            match = _URI_RE.match(urlsplit(raw).path)
            raw = match.group("id") if match else raw
        if field.kind in ("integer", "related"):
            try:
                return int(raw)
            except ValueError:
                raise ApiError(400, {"error": f"Invalid value '{raw}' for '{key}'."}) from None
        if field.kind == "boolean":
            return 1 if raw.lower() in ("true", "1") else 0
        folded = field.name == "localpart" or (
            field.name == "name" and res in ("domain", "domain_alias")
        )
        return raw.lower() if folded and lookup == "exact" else raw

    # -- writes ---------------------------------------------------------------------------

    def create(self, name: str, data: Any) -> dict[str, Any]:
        res = self.resource(name)
        values, password = self._validate(res, data, existing=None)
        if password is not None:
            values["password_hash"] = hash_password(password)
        with self._write:
            try:
                id_ = self.store.insert(res, values)
            except UniqueViolation as exc:
                raise ApiError(400, self._duplicate(res, exc.fields)) from None
            try:
                self._apply_after(res, id_)
            except Exception:
                log.exception("applying %s %d to the lab failed; undoing", res.name, id_)
                self.store.delete(res, id_)
                self._reconcile_all_domains()
                raise ApiError(500, _ERROR_500) from None
        if password is not None:  # outside the write lock: logins are written in parallel
            self._set_login(id_, password, values["password_hash"], undo=True)
        row = self.store.get(res, id_)
        assert row is not None
        return self.render(res, [row])[0]

    def replace(self, name: str, key: str, data: Any) -> dict[str, Any]:
        res = self.resource(name)
        with self._write:
            row = self._row(res, key)
            values, password = self._validate(res, data, existing=row)
            if password is not None:
                values["password_hash"] = hash_password(password)
            try:
                self.store.update(res, row["id"], values)
            except UniqueViolation as exc:
                raise ApiError(400, self._duplicate(res, exc.fields)) from None
            try:
                self._apply_after(res, row["id"], before=row)
                if password is not None:
                    self._set_login(row["id"], password, values["password_hash"], undo=False)
            except ApiError:
                raise
            except Exception:
                log.exception("applying %s %d to the lab failed", res.name, row["id"])
                raise ApiError(500, _ERROR_500) from None
            new = self.store.get(res, row["id"])
        assert new is not None
        body = self.render(res, [new])[0]
        body["pk"] = str(new["id"])
        return body

    def remove(self, name: str, key: str) -> None:
        res = self.resource(name)
        with self._write:
            row = self._row(res, key)
            accounts = self._accounts_under(res, row["id"])
            self.store.delete(res, row["id"])
            for address in accounts:
                self.effects.remove_account(address)
            self._reconcile_all_domains()

    def _accounts_under(self, res: ResourceDef, id_: int) -> list[str]:
        """Return the addresses a delete of ``res`` ``id_`` removes (cascade, contract §2.3)."""
        base = (
            "SELECT e.localpart || '@' || d.name AS address FROM email_account e "
            "JOIN domain d ON d.id = e.domain_id "
        )
        where = {
            "email_account": "WHERE e.id = ?",
            "domain": "WHERE d.id = ?",
            "customer": "WHERE d.customer_id = ?",
            "reseller": "WHERE d.customer_id IN (SELECT id FROM customer WHERE reseller_id = ?)",
        }.get(res.name)
        if where is None:
            return []
        return [r["address"] for r in self.store.select(base + where, (id_,))]

    def _duplicate(self, res: ResourceDef, fields: tuple[str, ...]) -> dict[str, Any]:
        if len(fields) == 1:
            label = fields[0].replace("_", " ").capitalize()
            return {res.name: {fields[0]: [f"{_title(res)} with this {label} already exists."]}}
        labels = " and ".join(f.replace("_", " ").capitalize() for f in fields)
        return {res.name: {"__all__": [f"{_title(res)} with this {labels} already exists."]}}

    def _validate(
        self, res: ResourceDef, data: Any, *, existing: dict[str, Any] | None
    ) -> tuple[dict[str, Any], str | None]:
        """Return (column values to write, new plain password or None); raise 400 on errors."""
        if not isinstance(data, dict):
            raise ApiError(
                400, {res.name: {"__all__": ["The request body must be a JSON object."]}}
            )
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for f in res.fields:
            if f.readonly or not f.column:
                continue
            if res.name == "email_account" and f.name == "domain" and existing is not None:
                continue  # KB5: an account's domain cannot change
            if f.name not in data:
                if existing is None:
                    if f.required:
                        errors.setdefault(f.name, []).append("This field is required.")
                    elif f.default is not None:
                        values[f.name] = int(f.default) if f.kind == "boolean" else f.default
                continue
            try:
                column = f"{f.name}_id" if f.kind == "related" else f.name
                values[column] = self._coerce(f, data[f.name])
            except ValueError as exc:
                errors.setdefault(f.name, []).append(str(exc))
        password = self._check_resource(res, data, values, existing, errors)
        if errors:
            raise ApiError(400, {res.name: errors})
        return values, password

    def _coerce(self, f: FieldDef, value: Any) -> Any:
        if value is None:
            if f.nullable or f.writeonly:
                return None
            raise ValueError("This field cannot be null.")
        if f.kind == "related":
            if not isinstance(value, str):
                raise ValueError("Must be a resource URI such as /api/v1/domain/111/.")
            match = _URI_RE.match(urlsplit(value).path)
            if not match or match.group("res") != f.to:
                raise ValueError(f"Could not find the provided object via resource URI '{value}'.")
            id_ = int(match.group("id"))
            if not self.store.exists(str(f.to), id_):
                raise ValueError(f"Could not find the provided object via resource URI '{value}'.")
            return id_
        if f.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError("Must be an integer.")
            try:
                return int(value)
            except ValueError:
                raise ValueError("Must be an integer.") from None
        if f.kind == "boolean":
            if isinstance(value, bool):
                return int(value)
            if value in ("true", "false", 0, 1):
                return int(value in ("true", 1))
            raise ValueError("Must be true or false.")
        if not isinstance(value, str):
            raise ValueError("Must be a string.")
        return value.strip()

    def _check_resource(
        self,
        res: ResourceDef,
        data: dict[str, Any],
        values: dict[str, Any],
        existing: dict[str, Any] | None,
        errors: dict[str, list[str]],
    ) -> str | None:
        """Resource-specific rules; return a new plain password for an account, if any."""
        if "name" in values and res.name in ("domain", "domain_alias"):
            values["name"] = str(values["name"]).lower().rstrip(".")
            if not _DOMAIN_RE.match(values["name"]):
                errors.setdefault("name", []).append("Enter a valid domain name.")
        if res.name in ("customer", "reseller") and values.get("name") == "":
            errors.setdefault("name", []).append("This field cannot be blank.")
        if "deliveryport" in values and not 1 <= int(values["deliveryport"]) <= 65535:
            errors.setdefault("deliveryport", []).append("Must be a port number 1-65535.")
        if "priority" in values and not 0 <= int(values["priority"]) <= 65535:
            errors.setdefault("priority", []).append("Must be an integer 0-65535.")
        if "server" in values and not _HOST_RE.match(str(values["server"])):
            errors.setdefault("server", []).append("Enter a host name or IP address.")
        if "localpart" in values:
            values["localpart"] = str(values["localpart"]).lower()
            if len(values["localpart"]) > 64 or not _LOCALPART_RE.match(values["localpart"]):
                errors.setdefault("localpart", []).append("Enter a valid localpart.")
        if res.name != "email_account":
            return None
        values.pop("create_opt", None)
        values.pop("change_pwd", None)
        values.pop("send_welcome", None)
        password = data.get("password")
        confirm = data.get("confirm_password")
        if existing is None:
            opt = data.get("create_opt")
            if opt not in _CREATE_OPTS:
                errors.setdefault("create_opt", []).append(
                    f"Select a valid choice: {', '.join(_CREATE_OPTS)}."
                )
                return None
            if opt == "generate_pwd":
                return secrets.token_urlsafe(12)
        elif password is None:
            return None
        if not isinstance(password, str) or not password:
            errors.setdefault("password", []).append("This field is required.")
            return None
        if confirm != password:
            errors.setdefault("confirm_password", []).append("Passwords do not match.")
            return None
        return password

    # -- applying to the lab --------------------------------------------------------------

    def _set_login(self, account_id: int, password: str, hashed: str, *, undo: bool) -> None:
        """Make the account a destination login; on failure undo the create and answer 500."""
        try:
            self.effects.set_accounts([AccountLogin(self._address(account_id), password, hashed)])
        except Exception:
            log.exception("adding login for account %d to the lab failed", account_id)
            if undo:
                with self._write:
                    self.store.delete(RESOURCES["email_account"], account_id)
            raise ApiError(500, _ERROR_500) from None

    def _apply_after(
        self, res: ResourceDef, id_: int, *, before: dict[str, Any] | None = None
    ) -> None:
        if res.name == "domain":
            self._reconcile_domain(id_)
        elif res.name == "mail_server":
            row = self.store.get(res, id_)
            assert row is not None
            self._reconcile_domain(row["domain_id"])
            if before is not None and before["domain_id"] != row["domain_id"]:
                self._reconcile_domain(before["domain_id"])

    def _address(self, account_id: int) -> str:
        row = self.store.select(
            "SELECT e.localpart || '@' || d.name AS address FROM email_account e "
            "JOIN domain d ON d.id = e.domain_id WHERE e.id = ?",
            (account_id,),
        )
        return str(row[0]["address"])

    def _reconcile_domain(self, domain_id: int) -> None:
        """Make the gateway route and hold of one domain match the database."""
        domain = self.store.get(RESOURCES["domain"], domain_id)
        old = self._applied.get(domain_id)
        if domain is None:
            if old is not None:
                name, route, held = old
                if route is not None:
                    self.effects.remove_route(name)
                if held:
                    self.effects.release(name)
                del self._applied[domain_id]
            return
        name = str(domain["name"])
        servers = self.store.select(
            "SELECT server FROM mail_server WHERE domain_id = ? ORDER BY priority, id LIMIT 1",
            (domain_id,),
        )
        route = (
            lmtp_transport(servers[0]["server"], int(domain["deliveryport"])) if servers else None
        )
        held = bool(domain["hold_email"])
        if old is not None and old[0] != name:  # renamed: forget the old name's state
            if old[1] is not None:
                self.effects.remove_route(old[0])
            if old[2]:
                self.effects.release(old[0])
            old = None
        if old is None or old[1] != route:
            if route is not None:
                self.effects.set_route(name, route)
            elif old is not None:
                self.effects.remove_route(name)
        if (old is None and held) or (old is not None and old[2] != held):
            (self.effects.hold if held else self.effects.release)(name)
        self._applied[domain_id] = (name, route, held)

    def _reconcile_all_domains(self) -> None:
        ids = {r["id"] for r in self.store.select("SELECT id FROM domain")} | set(self._applied)
        for domain_id in sorted(ids):
            self._reconcile_domain(domain_id)

    def apply_all(self) -> None:
        """Apply every domain's route and hold to the lab (at start-up)."""
        with self._write:
            self._reconcile_all_domains()

    def seed_reseller(self, name: str) -> None:
        """Create the reseller the lab's API key works as, if it is absent."""
        res = RESOURCES["reseller"]
        with self._write:
            if not self.store.select("SELECT id FROM reseller WHERE name = ?", (name,)):
                self.store.insert(
                    res, {"name": name, "allow_branding": 0, "allow_customer_branding": 0}
                )
