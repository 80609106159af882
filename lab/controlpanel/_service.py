"""The lab control panel's behaviour, independent of HTTP: validate, store, apply to the lab.

Methods return JSON-ready dicts or raise :class:`ApiError` carrying the status and body the
contract documents (400 ``{"<resource>": {"field": ["msg"]}}``, 404 with no body). Writes are
serialised by one lock so the database and the lab (routes, holds, aliases, logins) move
together; a lab failure undoes the database change and answers 500. An address belongs to one
thing: an alias may not take an account's or another account's alias's address (400).
"""

from __future__ import annotations

import email.utils
import functools
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from lab.controlpanel._aliases import check_address_free, wanted_aliases
from lab.controlpanel._effects import AccountLogin, LabEffects, lmtp_transport
from lab.controlpanel._errors import API_ROOT, ERROR_500, ApiError
from lab.controlpanel._passwords import hash_password
from lab.controlpanel._query import page_link, parse_list
from lab.controlpanel._resources import RESOURCES, ResourceDef
from lab.controlpanel._store import Store, UniqueViolation
from lab.controlpanel._validate import validate

__all__ = ["API_ROOT", "ApiError", "Service"]

log = logging.getLogger(__name__)

# A delete of these can change the gateway's routes and holds, or its aliases (cascade).
_ROUTE_OWNERS = frozenset({"reseller", "customer", "domain", "mail_server"})
_ALIAS_OWNERS = frozenset({"reseller", "customer", "domain", "email_account"})
# The columns of an update that change an alias's address or its target's.
_ADDRESS_COLUMNS = {"email_account": ("localpart", "domain_id"), "domain": ("name",)}


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
        self._aliases: dict[str, str] = {}  # alias address -> account address, as applied

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
        q = parse_list(res, params)
        rows, total = self.store.query(
            res, q.conditions, order_by=q.order_by, limit=q.limit, offset=q.offset
        )
        more = q.offset + q.limit < total
        return {
            "meta": {
                "limit": q.limit,
                "offset": q.offset,
                "total_count": total,
                "next": page_link(name, params, q.limit, q.offset + q.limit) if more else None,
                "previous": (
                    page_link(name, params, q.limit, max(q.offset - q.limit, 0))
                    if q.offset > 0
                    else None
                ),
            },
            "objects": self.render(res, rows),
        }

    # -- writes ---------------------------------------------------------------------------

    def create(self, name: str, data: Any) -> dict[str, Any]:
        res = self.resource(name)
        values, password = validate(self.store, res, data, existing=None)
        if password is not None:
            values["password_hash"] = hash_password(password)
        with self._write:
            check_address_free(self.store, res, values, existing=None)
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
                self._reconcile_aliases()
                raise ApiError(500, ERROR_500) from None
        if password is not None:  # outside the write lock: logins are written in parallel
            self._set_login(id_, password, values["password_hash"], undo=True)
        row = self.store.get(res, id_)
        assert row is not None
        return self.render(res, [row])[0]

    def replace(self, name: str, key: str, data: Any) -> dict[str, Any]:
        res = self.resource(name)
        with self._write:
            row = self._row(res, key)
            values, password = validate(self.store, res, data, existing=row)
            if password is not None:
                values["password_hash"] = hash_password(password)
            check_address_free(self.store, res, values, existing=row)
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
                raise ApiError(500, ERROR_500) from None
            new = self.store.get(res, row["id"])
        assert new is not None
        body = self.render(res, [new])[0]
        body["pk"] = str(new["id"])
        return body

    def remove(self, name: str, key: str) -> None:
        """Delete, then apply every effect of the delete even if one fails (the row is gone:
        its logins and routes must go too); a failure answers 500 after all were tried."""
        res = self.resource(name)
        with self._write:
            row = self._row(res, key)
            accounts = self._accounts_under(res, row["id"])
            self.store.delete(res, row["id"])
            steps: list[Callable[[], None]] = [
                functools.partial(self.effects.remove_account, a) for a in accounts
            ]
            if res.name in _ROUTE_OWNERS:
                steps.append(self._reconcile_all_domains)
            if res.name == "localpart_alias":
                steps.append(lambda: self._reconcile_aliases(accounts={row["email_account_id"]}))
            elif res.name in _ALIAS_OWNERS:  # cascade: an account's or domain's aliases go too
                steps.append(self._reconcile_aliases)
            failed = False
            for step in steps:
                try:
                    step()
                except Exception:
                    log.exception("applying the delete of %s %d to the lab failed", name, row["id"])
                    failed = True
            if failed:
                raise ApiError(500, ERROR_500)

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
            raise ApiError(500, ERROR_500) from None

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
        if res.name == "localpart_alias":
            row = self.store.get(res, id_)
            assert row is not None
            moved = {before["email_account_id"]} if before is not None else set()
            self._reconcile_aliases(accounts={row["email_account_id"], *moved})
        elif before is not None and res.name in ("email_account", "domain"):
            row = self.store.get(res, id_)
            assert row is not None
            if any(row[c] != before[c] for c in _ADDRESS_COLUMNS[res.name]):  # renamed
                self._reconcile_aliases()

    def _exists_account(self, account_id: int) -> bool:
        return self.store.get(RESOURCES["email_account"], account_id) is not None

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

    def _reconcile_aliases(
        self, failed: list[str] | None = None, *, accounts: Collection[int] | None = None
    ) -> None:
        """Make the gateway's aliases match the database (``sales@acme.test`` → the account's
        address): all of them, or only those of ``accounts`` (an alias write; their addresses
        did not change). Raises on the first failure, or, given ``failed``, notes it and goes
        on."""
        wanted = wanted_aliases(self.store, accounts)
        applied: Iterable[str] = self._aliases
        if accounts is not None:
            targets = {self._address(a) for a in accounts if self._exists_account(a)}
            applied = [a for a, t in self._aliases.items() if t in targets]
        changes: list[tuple[str, str | None]] = [
            (alias, None) for alias in sorted(applied) if alias not in wanted
        ]
        changes += [(a, t) for a, t in sorted(wanted.items()) if self._aliases.get(a) != t]
        for alias, target in changes:
            try:
                if target is None:
                    self.effects.remove_alias(alias)
                    del self._aliases[alias]
                else:
                    self.effects.set_alias(alias, target)
                    self._aliases[alias] = target
            except Exception as exc:
                if failed is None:
                    raise
                log.warning("alias %s: not applied to the lab at start: %s", alias, exc)
                failed.append(alias)

    def apply_all(self) -> list[str]:
        """Apply every domain's route and hold and every alias to the lab (at start-up);
        return the domains and aliases that failed.

        The lab starts its servers in parallel, so the gateway may not answer yet: a domain
        or alias that cannot be applied is logged and left for its next change, not fatal.
        """
        failed = []
        with self._write:
            for row in self.store.select("SELECT id, name FROM domain ORDER BY id"):
                try:
                    self._reconcile_domain(int(row["id"]))
                except Exception as exc:
                    log.warning("domain %s: not applied to the lab at start: %s", row["name"], exc)
                    failed.append(str(row["name"]))
            self._reconcile_aliases(failed)
        return failed

    def seed_reseller(self, name: str) -> None:
        """Create the reseller the lab's API key works as, if it is absent."""
        res = RESOURCES["reseller"]
        with self._write:
            if not self.store.select("SELECT id FROM reseller WHERE name = ?", (name,)):
                self.store.insert(
                    res, {"name": name, "allow_branding": 0, "allow_customer_branding": 0}
                )
