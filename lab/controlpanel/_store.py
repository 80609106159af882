"""The lab control panel's SQLite database: one table per resource, real uniqueness.

Natural keys are UNIQUE constraints (customer/domain/domain_alias/reseller name, account
localpart+domain, alias localpart+account), so a duplicate create fails in the database even
under concurrent requests. Related objects cascade on delete, as MailRoute's do (contract
§2.3: deleting a domain deletes its accounts). Only a password *hash* is stored.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.controlpanel._resources import RESOURCES, ResourceDef

__all__ = ["Condition", "Store", "UniqueViolation"]

_OPS = {
    "exact": "= ?",
    "iexact": "= ? COLLATE NOCASE",
    "contains": "LIKE ? ESCAPE '\\'",
    "icontains": "LIKE ? ESCAPE '\\'",
    "startswith": "LIKE ? ESCAPE '\\'",
    "istartswith": "LIKE ? ESCAPE '\\'",
    "endswith": "LIKE ? ESCAPE '\\'",
    "iendswith": "LIKE ? ESCAPE '\\'",
    "gt": "> ?",
    "gte": ">= ?",
    "lt": "< ?",
    "lte": "<= ?",
}
LOOKUPS = frozenset({*_OPS, "in", "isnull"})


class UniqueViolation(Exception):
    """Raised when an insert or update would duplicate a natural key; ``fields`` names it."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


@dataclass(frozen=True)
class Condition:
    """``column`` (or ``relation.column``) ``lookup`` ``value``, already validated."""

    column: str
    lookup: str
    value: Any
    via: tuple[str, str] | None = None  # (local relation column, related table)


def _col(res: ResourceDef, name: str) -> str:
    field = res.get(name)
    return f"{name}_id" if field is not None and field.kind == "related" else name


def _like(lookup: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if lookup.endswith("contains"):
        return f"%{escaped}%"
    if lookup.endswith("startswith"):
        return f"{escaped}%"
    return f"%{escaped}"


class Store:
    """Thread-safe access to the control panel's database file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._create_tables()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _create_tables(self) -> None:
        for res in RESOURCES.values():
            cols = ["id INTEGER PRIMARY KEY AUTOINCREMENT"]
            for f in res.columns:
                if f.kind == "related":
                    cols.append(
                        f"{f.name}_id INTEGER NOT NULL REFERENCES {f.to}(id) ON DELETE CASCADE"
                    )
                elif f.kind == "integer":
                    cols.append(f"{f.name} INTEGER")
                elif f.kind == "boolean":
                    cols.append(f"{f.name} INTEGER NOT NULL DEFAULT 0")
                else:
                    cols.append(f"{f.name} TEXT")
            if res.name == "email_account":
                cols.append("password_hash TEXT")
            cols += ["created_at TEXT NOT NULL", "updated_at TEXT NOT NULL"]
            if res.natural_key and res.name != "mail_server":
                cols.append(f"UNIQUE ({', '.join(_col(res, k) for k in res.natural_key)})")
            with self._lock:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {res.name} ({', '.join(cols)})")
                for rel in res.relations:
                    self._db.execute(
                        f"CREATE INDEX IF NOT EXISTS {res.name}_{rel.name} "
                        f"ON {res.name}({rel.name}_id)"
                    )

    # -- writes ----------------------------------------------------------------------------

    def insert(self, res: ResourceDef, values: dict[str, Any]) -> int:
        """Insert a row (keys are column names); return its id."""
        now = datetime.now(UTC).isoformat()
        row = {**values, "created_at": now, "updated_at": now}
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._lock:
            try:
                cur = self._db.execute(
                    f"INSERT INTO {res.name} ({names}) VALUES ({marks})", tuple(row.values())
                )
            except sqlite3.IntegrityError as exc:
                raise self._violation(res, exc) from None
        assert cur.lastrowid is not None
        return cur.lastrowid

    def update(self, res: ResourceDef, id_: int, values: dict[str, Any]) -> None:
        row = {**values, "updated_at": datetime.now(UTC).isoformat()}
        sets = ", ".join(f"{k} = ?" for k in row)
        with self._lock:
            try:
                self._db.execute(f"UPDATE {res.name} SET {sets} WHERE id = ?", (*row.values(), id_))
            except sqlite3.IntegrityError as exc:
                raise self._violation(res, exc) from None

    def delete(self, res: ResourceDef, id_: int) -> None:
        with self._lock:
            self._db.execute(f"DELETE FROM {res.name} WHERE id = ?", (id_,))

    def _violation(self, res: ResourceDef, exc: sqlite3.IntegrityError) -> Exception:
        text = str(exc)
        if "UNIQUE" in text:
            return UniqueViolation(res.natural_key)
        return exc

    # -- reads -----------------------------------------------------------------------------

    def get(self, res: ResourceDef, id_: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(f"SELECT * FROM {res.name} WHERE id = ?", (id_,)).fetchone()
        return dict(row) if row else None

    def exists(self, table: str, id_: int) -> bool:
        with self._lock:
            row = self._db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (id_,)).fetchone()
        return row is not None

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read-only query written by this package (never built from request text)."""
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, tuple(params)).fetchall()]

    def query(
        self,
        res: ResourceDef,
        conditions: Iterable[Condition],
        *,
        order_by: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Return one page of rows and the total count for ``conditions``."""
        where: list[str] = []
        params: list[Any] = []
        for c in conditions:
            sql, args = self._condition(c)
            where.append(sql)
            params.extend(args)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        order = "id"
        if order_by:
            desc = order_by.startswith("-")
            name = _col(res, order_by.lstrip("-"))
            order = f"{name} {'DESC' if desc else 'ASC'}, id"
        with self._lock:
            total = self._db.execute(
                f"SELECT COUNT(*) FROM {res.name}{clause}", tuple(params)
            ).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM {res.name}{clause} ORDER BY {order} LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [dict(r) for r in rows], int(total)

    def _condition(self, c: Condition) -> tuple[str, list[Any]]:
        if c.lookup == "in":
            values = list(c.value)
            marks = ", ".join("?" for _ in values) or "NULL"
            expr, args = f"{c.column} IN ({marks})", values
        elif c.lookup == "isnull":
            expr, args = f"{c.column} IS {'' if c.value else 'NOT '}NULL", []
        elif "contains" in c.lookup or "startswith" in c.lookup or "endswith" in c.lookup:
            expr, args = f"{c.column} {_OPS[c.lookup]}", [_like(c.lookup, str(c.value))]
            if not c.lookup.startswith("i"):
                expr = f"{c.column} GLOB ?"
                args = [self._glob(c.lookup, str(c.value))]
        else:
            expr, args = f"{c.column} {_OPS[c.lookup]}", [c.value]
        if c.via is not None:
            local, table = c.via
            return f"{local} IN (SELECT id FROM {table} WHERE {expr})", args
        return expr, args

    @staticmethod
    def _glob(lookup: str, value: str) -> str:
        escaped = "".join(f"[{ch}]" if ch in "*?[" else ch for ch in value)
        if lookup == "contains":
            return f"*{escaped}*"
        if lookup == "startswith":
            return f"{escaped}*"
        return f"*{escaped}"
