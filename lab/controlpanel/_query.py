"""List requests: Django-style filters, ordering and limit/offset paging (contract §1.2-1.3).

Only what a resource's ``filtering`` map allows is accepted (1 = any lookup, 2 = also across a
relation, a list = those lookups); anything else is a 400 ``{"error": ...}`` as tastypie does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from lab.controlpanel._errors import API_ROOT, URI_RE, ApiError
from lab.controlpanel._resources import ALL_WITH_RELATIONS, RESOURCES, FieldDef, ResourceDef
from lab.controlpanel._store import LOOKUPS, Condition

__all__ = ["MAX_LIMIT", "ListQuery", "page_link", "parse_list"]

MAX_LIMIT = 1000
_CONTROL_PARAMS = frozenset({"limit", "offset", "order_by", "format", "username", "api_key"})


@dataclass(frozen=True)
class ListQuery:
    """A validated list request."""

    conditions: tuple[Condition, ...]
    limit: int
    offset: int
    order_by: str | None


def parse_list(res: ResourceDef, params: Sequence[tuple[str, str]]) -> ListQuery:
    """Return the list request ``params`` describe; raise ApiError(400) for a bad one."""
    args = dict(params)
    limit = _int_param(args, "limit", 20)
    offset = _int_param(args, "offset", 0)
    limit = MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT)
    order_by = args.get("order_by")
    if order_by and order_by.lstrip("-") not in res.ordering:
        field = order_by.lstrip("-")
        raise ApiError(400, {"error": f"No matching '{field}' field for ordering on."})
    conditions = tuple(
        _condition(res, key, value) for key, value in params if key not in _CONTROL_PARAMS
    )
    return ListQuery(conditions, limit, offset, order_by)


def page_link(name: str, params: Sequence[tuple[str, str]], limit: int, offset: int) -> str:
    """Return the host-relative URL of the page at ``offset`` with the same filters."""
    kept = [(k, v) for k, v in params if k not in ("limit", "offset")]
    return f"{API_ROOT}{name}/?{urlencode([*kept, ('limit', limit), ('offset', offset)])}"


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


def _condition(res: ResourceDef, key: str, raw: str) -> Condition:
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
        _check_lookup(lookup, ALL_WITH_RELATIONS, key)
        value = _filter_value(sub, lookup, raw, key, target.name)
        return Condition(sub.name, lookup, value, via=(f"{name}_id", target.name))
    lookup = rest[0] if rest else "exact"
    _check_lookup(lookup, allowed, key)
    column = f"{name}_id" if field.kind == "related" else name
    return Condition(column, lookup, _filter_value(field, lookup, raw, key, res.name))


def _check_lookup(lookup: str, allowed: Any, key: str) -> None:
    if lookup not in LOOKUPS:
        raise ApiError(400, {"error": f"'{lookup}' is not an allowed filter on '{key}'."})
    if isinstance(allowed, list) and lookup not in allowed:
        raise ApiError(400, {"error": f"'{lookup}' is not an allowed filter on '{key}'."})


def _filter_value(field: FieldDef, lookup: str, raw: str, key: str, res: str) -> Any:
    if lookup == "in":
        return [_filter_value(field, "exact", v, key, res) for v in raw.split(",") if v]
    if lookup == "isnull":
        return raw.lower() in ("true", "1")
    if field.kind == "related":
        match = URI_RE.match(urlsplit(raw).path)
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
