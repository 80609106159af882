"""The optional ``aliases`` column of the user list: other addresses delivering to a mailbox.

A cell holds zero or more aliases separated by ``;``, ``,`` or whitespace, each a localpart
(``sales``) or a full address at the account's own domain (``sales@acme.test``). A MailRoute
alias is a localpart of the account's domain (contract §2.7), so an alias in another domain
cannot be created on that account. Aliases are compared case-insensitively and stored as
lower-cased localparts; :func:`alias_localparts` is what provisioning receives.

:class:`AliasIndex` answers the cross-row questions (an alias that is also a mailbox in the
list, the same alias on two accounts) once per frame, for the checks and for the report.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from validation.addresses import address_problem, ascii_domain, mailbox_key

__all__ = [
    "AliasIndex",
    "ParsedAlias",
    "alias_localparts",
    "bad_syntax",
    "foreign",
    "normal_address",
    "parse_aliases",
]

_SEPARATORS = re.compile(r"[;,\s]+")
# Syntax of a bare localpart is checked as an address at a neutral domain.
_PROBE_DOMAIN = "example.com"


@dataclass(frozen=True, slots=True)
class ParsedAlias:
    """One alias as written (``token``), its lower-cased localpart and domain (None if bare)."""

    token: str
    localpart: str
    domain: str | None


@functools.lru_cache(maxsize=4096)  # a user list has few domains and many rows
def _normal_domain(domain: str) -> str:
    return ascii_domain(unicodedata.normalize("NFC", domain.strip().lower().rstrip(".")))


def normal_address(address: str) -> str:
    """Return ``address`` as :func:`~validation.addresses.mailbox_key` compares it."""
    return mailbox_key(address) if "@" in address else f"@{_normal_domain(address)}"


def parse_aliases(cell: str) -> list[ParsedAlias]:
    """Split a cell into aliases: ``"sales; Info@acme.test"`` -> sales, info (acme.test)."""
    cell = cell.strip()
    if not cell:
        return []
    out = []
    for token in _SEPARATORS.split(cell):
        if not token:
            continue
        if "@" in token:
            local, _, domain = token.rpartition("@")
            local = unicodedata.normalize("NFC", local).lower()
            out.append(ParsedAlias(token, local, _normal_domain(domain)))
        else:
            out.append(ParsedAlias(token, unicodedata.normalize("NFC", token).lower(), None))
    return out


# What the hosted platform's alias maps take: an ASCII dot-atom. "#" may not lead (a map
# line starting with it is a comment), and non-ASCII localparts need SMTPUTF8 end to end.
_ALIAS_LOCALPART = re.compile(
    r"[a-z0-9!$%&'*+/=?^_`{|}~-][a-z0-9!#$%&'*+/=?^_`{|}~-]*(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)


def _syntax_problem(alias: ParsedAlias) -> str | None:
    if alias.domain is None:
        problem = address_problem(f"{alias.token}@{_PROBE_DOMAIN}")
    else:
        problem = address_problem(alias.token)
    if problem is None and not _ALIAS_LOCALPART.fullmatch(alias.localpart):
        problem = "an alias may use only ASCII letters, digits and . _ + - and may not start with #"
    return problem


def bad_syntax(cell: str) -> list[tuple[str, str]]:
    """Return ``(alias, reason)`` for every alias in the cell that is not a valid address."""
    found = []
    for alias in parse_aliases(cell):
        reason = _syntax_problem(alias)
        if reason is not None:
            found.append((alias.token, reason))
    return found


def foreign(cell: str, account: str) -> list[str]:
    """Return the aliases written as addresses in another domain than ``account``'s."""
    written = [a for a in parse_aliases(cell) if a.domain is not None]
    if not written:
        return []
    domain = normal_address(account).rpartition("@")[2]
    return [a.token for a in written if a.domain != domain and _syntax_problem(a) is None]


def alias_localparts(cell: str) -> tuple[str, ...]:
    """Return the cell's aliases as lower-cased localparts, each once, in order."""
    return tuple(dict.fromkeys(a.localpart for a in parse_aliases(cell)))


@dataclass
class AliasIndex:
    """Who lists which alias: ``aliases[row]`` are its alias addresses, ``rows[address]``.

    Only well-formed aliases at the account's own domain of a row with a plausible account
    address are indexed; the syntax and domain checks report the others.
    """

    aliases: dict[int, list[str]] = field(default_factory=dict)
    rows: dict[str, list[int]] = field(default_factory=dict)
    accounts: dict[str, list[int]] = field(default_factory=dict)
    emails: dict[int, str] = field(default_factory=dict)  # row -> normalised account address

    @classmethod
    def build(cls, frame: pd.DataFrame) -> AliasIndex:
        """Index the frame's ``email`` and ``aliases`` columns (either may be missing)."""
        index = cls()
        if "email" not in frame.columns:
            return index
        emails = frame["email"].astype(str)
        # Vectorised trim + lower-case; only IDN or trailing-dot domains need normal_address.
        plain = emails.str.strip().str.lower()
        for row, email, low in zip(
            emails.index.tolist(), emails.tolist(), plain.tolist(), strict=True
        ):
            if "@" in email:
                address = low if low.isascii() and not low.endswith(".") else normal_address(email)
                index.emails[int(row)] = address
                index.accounts.setdefault(address, []).append(int(row))
        if "aliases" not in frame.columns:
            return index
        cells = frame["aliases"].astype(str)
        rows = cells.index.tolist()
        for row, email, cell in zip(rows, emails.tolist(), cells.tolist(), strict=True):
            if not cell.strip() or "@" not in email:
                continue
            domain = index.emails[int(row)].rpartition("@")[2]
            keys = []
            for alias in parse_aliases(cell):
                if alias.domain not in (None, domain) or _syntax_problem(alias) is not None:
                    continue
                key = f"{alias.localpart}@{domain}"
                if key not in keys:
                    keys.append(key)
                    index.rows.setdefault(key, []).append(int(row))
            index.aliases[int(row)] = keys
        return index

    def own_address(self, row: int) -> list[str]:
        """Return the row's aliases that are its own account address."""
        return [a for a in self.aliases.get(row, []) if a == self.emails.get(row)]

    def mailboxes(self, row: int) -> list[tuple[str, list[int]]]:
        """Return ``(alias, rows)`` for the row's aliases that are other rows' accounts."""
        return self._others(row, self.accounts)

    def listed_as_alias(self, row: int) -> list[int]:
        """Return the other rows listing this row's account address as an alias."""
        return [r for r in self.rows.get(self.emails.get(row, ""), []) if r != row]

    def duplicates(self, row: int) -> list[tuple[str, list[int]]]:
        """Return ``(alias, rows)`` for the row's aliases that other rows list too."""
        return self._others(row, self.rows)

    def _others(self, row: int, by_address: dict[str, list[int]]) -> list[tuple[str, list[int]]]:
        """``(alias, rows)`` for each of the row's aliases that ``by_address`` gives other rows."""
        out = []
        for alias in self.aliases.get(row, []):
            others = [r for r in by_address.get(alias, []) if r != row]
            if others:
                out.append((alias, others))
        return out
