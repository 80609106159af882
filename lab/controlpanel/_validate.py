"""Input validation of the lab control panel: types, relations, per-resource rules.

Errors are collected per field and answered as one 400 ``{"<resource>": {"field": ["msg"]}}``
(contract §1.1). For an email account it also decides the new password: the caller's
(``create_pwd``/``set_pwd`` with a matching ``confirm_password``) or a generated one.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from lab._postfix_conf import is_localpart
from lab.controlpanel._errors import URI_RE, ApiError
from lab.controlpanel._resources import FieldDef, ResourceDef
from lab.controlpanel._store import Store

__all__ = ["validate"]

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")
_CREATE_OPTS = ("generate_pwd", "create_pwd", "set_pwd")


def validate(
    store: Store, res: ResourceDef, data: Any, *, existing: dict[str, Any] | None
) -> tuple[dict[str, Any], str | None]:
    """Return (column values to write, new plain password or None); raise 400 on errors."""
    if not isinstance(data, dict):
        raise ApiError(400, {res.name: {"__all__": ["The request body must be a JSON object."]}})
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
            values[column] = _coerce(store, f, data[f.name])
        except ValueError as exc:
            errors.setdefault(f.name, []).append(str(exc))
    password = _check_resource(res, data, values, existing, errors)
    if errors:
        raise ApiError(400, {res.name: errors})
    return values, password


def _coerce(store: Store, f: FieldDef, value: Any) -> Any:
    if value is None:
        if f.nullable or f.writeonly:
            return None
        raise ValueError("This field cannot be null.")
    if f.kind == "related":
        if not isinstance(value, str):
            raise ValueError("Must be a resource URI such as /api/v1/domain/111/.")
        match = URI_RE.match(urlsplit(value).path)
        if not match or match.group("res") != f.to:
            raise ValueError(f"Could not find the provided object via resource URI '{value}'.")
        id_ = int(match.group("id"))
        if not store.exists(str(f.to), id_):
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
        if not is_localpart(values["localpart"]):
            errors.setdefault("localpart", []).append(
                "Enter a valid localpart: up to 64 letters, digits and .!#$%&'*+/=?^_`{|}~- "
                "(no leading #, no leading, trailing or double dot)."
            )
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
