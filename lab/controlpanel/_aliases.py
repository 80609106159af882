"""Email-account aliases (localpart_alias) as the gateway sees them: address → account.

The gateway rewrites an alias address to its account's address, so an address must belong to
one thing: an alias on an account's address, or on another account's alias, would take that
mail away from its owner. Both are refused with a 400 naming the field and the fix.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lab.controlpanel._errors import ApiError
from lab.controlpanel._resources import RESOURCES, ResourceDef
from lab.controlpanel._store import Store

__all__ = ["check_address_free", "wanted_aliases"]


def wanted_aliases(store: Store, accounts: Collection[int] | None = None) -> dict[str, str]:
    """Return every alias address (of ``accounts`` only, if given: one alias write need
    not read them all) and the account address it delivers to.

    ``{"sales@acme.test": "ann@acme.test"}``
    """
    sql = (
        "SELECT a.localpart || '@' || d.name AS alias, e.localpart || '@' || d.name AS target "
        "FROM localpart_alias a JOIN email_account e ON e.id = a.email_account_id "
        "JOIN domain d ON d.id = e.domain_id"
    )
    ids = sorted(accounts) if accounts is not None else []
    if accounts is not None:
        sql += f" WHERE e.id IN ({', '.join('?' for _ in ids) or 'NULL'})"
    rows = store.select(sql, ids)
    return {str(r["alias"]): str(r["target"]) for r in rows}


def check_address_free(
    store: Store, res: ResourceDef, values: dict[str, Any], *, existing: dict[str, Any] | None
) -> None:
    """Raise 400 if an account or alias write would take an address another one owns.

    ``values`` are the validated column values of the write, ``existing`` the row it changes
    (None on create). The same localpart twice on one account is left to the store's unique
    constraint, which answers the contract's "already exists".
    """
    if res.name not in ("email_account", "localpart_alias"):
        return

    def value(column: str) -> Any:
        return values.get(column, existing[column] if existing else None)

    localpart = value("localpart")
    if res.name == "email_account":
        domain_id = value("domain_id")
        taken = store.select(
            "SELECT a.id FROM localpart_alias a JOIN email_account e "
            "ON e.id = a.email_account_id WHERE e.domain_id = ? AND a.localpart = ?",
            (domain_id, localpart),
        )
        what = "an alias of an account"
    else:
        account_id = value("email_account_id")
        found = store.select("SELECT domain_id FROM email_account WHERE id = ?", (account_id,))
        if not found:
            return  # validation has refused the URI already
        domain_id = found[0]["domain_id"]
        taken = store.select(
            "SELECT id FROM email_account WHERE domain_id = ? AND localpart = ? "
            "UNION ALL SELECT a.id FROM localpart_alias a JOIN email_account e "
            "ON e.id = a.email_account_id WHERE e.domain_id = ? AND a.localpart = ? "
            "AND a.email_account_id != ?",
            (domain_id, localpart, domain_id, localpart, account_id),
        )
        what = "an email account or an alias of another account"
    if taken:
        domain = store.get(RESOURCES["domain"], int(domain_id))
        address = f"{localpart}@{domain['name'] if domain else domain_id}"
        message = f"{address} is already {what}; choose another localpart."
        raise ApiError(400, {res.name: {"localpart": [message]}})
