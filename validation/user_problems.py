"""Turn pandera's ``failure_cases`` into the operator's report: row, column, value, problem, fix.

One :class:`UserProblem` per (row, column, rule). Rows are spreadsheet row numbers (header =
row 1, so header problems are row 1). Columns are named as the file spells them (``E-mail``).
Only ``email``, ``source_username`` and ``aliases`` values are shown; every other cell is shown
as :data:`MASK` because it may be a password, including cells of unknown columns (``Kennwort``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from validation.addresses import address_problem, comparison_keys, domain_of
from validation.aliases import AliasIndex, bad_syntax, foreign, normal_address
from validation.confusables import confusable_addresses
from validation.csv_reader import KNOWN_COLUMNS, UserTable, canonical_column
from validation.spec import OnboardingSpec

__all__ = [
    "CONTROL_CHARACTERS",
    "MASK",
    "SHOWN_COLUMNS",
    "UserProblem",
    "display_value",
    "problems_from",
    "warnings_from",
]

MASK = "********"
SHOWN_COLUMNS = frozenset({"email", "source_username", "aliases"})
_ADDRESS_COLUMNS = frozenset({"email"})
_MIN_HIDDEN = 4  # a shorter hidden cell would mask ordinary addresses by chance
_RULE_ORDER = (
    "columns",
    "required",
    "surrounding_whitespace",
    "control_characters",
    "address_syntax",
    "customer_domain",
    "duplicate_address",
    "password_characters",
    "password_length",
    "password_character_classes",
    "password_common",
    "password_contains_name",
    "duplicate_source_username",
    "master_separator",
    "source_host_syntax",
    "source_port_range",
    "alias_syntax",
    "alias_domain",
    "alias_is_account",
    "duplicate_alias",
)
#: C0/C1 controls, zero-width and bidi formatting characters, line/paragraph separators, BOM.
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\ufeff]"
)


@dataclass(frozen=True, slots=True)
class UserProblem:
    """One reason one cell (or the header row) is wrong, and how to fix it."""

    row: int
    column: str
    value: str
    problem: str
    fix: str
    rule: str


def display_value(column: str, value: str) -> str:
    """Return the cell as the report shows it: masked unless it can only be an address,
    login name or alias list.

    An email or login cell without an ``@`` is masked too: it may be a password that landed
    in the wrong column (``display_value("email", "Tr7!kd9Lqw")`` -> ``"********"``).
    """
    if column not in SHOWN_COLUMNS:
        return MASK if value else ""
    if column in _ADDRESS_COLUMNS and value.strip() and not _plausible_address(value):
        return MASK
    return CONTROL_CHARACTERS.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _plausible_address(value: str) -> bool:
    """An ``@`` and no space inside: anything else may be a password in the wrong column."""
    trimmed = value.strip()
    return "@" in trimmed and not any(c.isspace() for c in trimmed)


def _holds_hidden_cell(frame: pd.DataFrame, row: int, value: str) -> bool:
    """True when a shown cell contains one of the row's hidden cells (a password, say)."""
    for column in frame.columns:
        if column in SHOWN_COLUMNS:
            continue
        hidden = str(frame.at[row, column]).strip()
        if len(hidden) >= _MIN_HIDDEN and hidden in value:
            return True
    return False


def _rule_name(check: str) -> str:
    return "required" if check.startswith("str_length") else check


def _failing_cells(failures: pd.DataFrame) -> Iterator[tuple[str, Any, str]]:
    """Yield (rule, row or None, frame column) for every failing cell pandera reported."""
    for case in failures.to_dict("records"):
        check, index, value = str(case["check"]), case["index"], case["failure_case"]
        if check in {"column_in_schema", "column_in_dataframe"}:
            yield check, None, str(value)
        elif index is None or pd.isna(index):
            yield f"error:{check}", None, str(case["column"])
        elif isinstance(value, dict):  # element-wise dataframe check: the failing columns
            for column in value:
                yield check, int(index), str(column)
        elif check == "password_contains_name":  # row-wise check, reported once per column
            if case["column"] == "password":
                yield check, int(index), "password"
        else:
            yield _rule_name(check), int(index), str(case["column"])


class _Describer:
    """Writes problem and fix sentences; needs the frame for duplicates and domains."""

    def __init__(self, table: UserTable, spec: OnboardingSpec) -> None:
        self.table = table
        self.spec = spec
        self._dupes: dict[str, dict[int, list[int]]] = {}
        self._aliases: AliasIndex | None = None

    @property
    def aliases(self) -> AliasIndex:
        if self._aliases is None:
            self._aliases = AliasIndex.build(self.table.frame)
        return self._aliases

    def duplicates(self, column: str, row: int) -> str:
        if column not in self._dupes:
            key = comparison_keys(self.table.frame[column], column)
            dup = key[key.duplicated(keep=False) & (key != "")]
            groups: dict[str, list[int]] = {}
            for r, k in zip(dup.index.tolist(), dup.tolist(), strict=True):
                groups.setdefault(k, []).append(int(r))
            self._dupes[column] = {r: rows for rows in groups.values() for r in rows}
        others = [r for r in self._dupes[column].get(row, []) if r != row]
        return ", ".join(str(r) for r in others) or "?"

    def describe(self, rule: str, column: str, row: int, value: str) -> tuple[str, str]:
        spec = self.spec
        domains = ", ".join(spec.domain_names)
        policy = spec.password_policy
        if rule == "required":
            what = "the user's email address" if column == "email" else "a value"
            if column == "password":
                what = "a password for the new mailbox"
            return "is empty", f"fill in {what}, or delete the row"
        if rule == "surrounding_whitespace":
            return "starts or ends with a space", "delete the spaces before and after the value"
        if rule == "control_characters":
            return (
                "contains an invisible control character (a line break, tab or zero-width space)",
                "retype the value instead of pasting it from a document",
            )
        if rule == "address_syntax":
            reason = address_problem(value.strip()) or "not a valid address"
            return (
                f"is not a valid email address: {reason}",
                f"correct the address (for example jane.doe@{spec.domain_names[0]})",
            )
        if rule == "customer_domain":
            domain = domain_of(pd.Series([value])).iloc[0]
            return (
                f"the domain {domain} is not one of the customer's domains ({domains})",
                "use an address at one of those domains, or add the domain to customer.yaml",
            )
        if rule == "duplicate_address":
            return (
                f"is the same address as row {self.duplicates(column, row)} "
                "(ignoring upper/lower case, spaces, Unicode normalisation and the IDN form "
                "of the domain)",
                "keep one row per address and delete the others",
            )
        if rule == "password_characters":
            return (
                "contains a character an IMAP or SASL login cannot carry (a control character "
                "such as NUL, a tab or a line break, or an invisible formatting character)",
                "choose a password of visible characters; letters of any language (UTF-8) are fine",
            )
        if rule == "password_length":
            return (
                f"is shorter than {policy.min_length} characters",
                f"choose a password of at least {policy.min_length} characters",
            )
        if rule == "password_character_classes":
            return (
                f"uses fewer than {policy.min_character_classes} of the 4 character kinds "
                "(lowercase, uppercase, digits, symbols)",
                "add uppercase letters, digits or symbols",
            )
        if rule == "password_common":
            return (
                "is a commonly used password (or one plus digits/symbols)",
                "choose a password that is not a common word or pattern",
            )
        if rule == "password_contains_name":
            return (
                "contains the user's name from the email address",
                "choose a password that does not contain the user's name",
            )
        if rule == "duplicate_source_username":
            return (
                f"is the same source login as row {self.duplicates(column, row)}",
                "give each user their own login on the old server",
            )
        if rule == "master_separator":
            sep = spec.migration.source.auth.master_separator if spec.migration.source else "*"
            return (
                f"contains {sep!r}, which separates user and admin in the master login",
                "use the plain login name on the old server",
            )
        if rule == "source_host_syntax":
            return (
                "is not a server name or IP address",
                "write the old IMAP server's host name (such as imap2.example.com), or leave "
                "it empty for migration.source.host",
            )
        if rule == "source_port_range":
            return (
                "is not a port number from 1 to 65535",
                "write the old server's IMAP port (993 for implicit TLS), or leave it empty",
            )
        if rule.startswith("alias") or rule == "duplicate_alias":
            return self.describe_alias(rule, column, row, value)
        return f"failed the check {rule}", "report this to the onboarding developers"

    def describe_alias(self, rule: str, column: str, row: int, value: str) -> tuple[str, str]:
        """Problem and fix for the alias rules (``value`` is the aliases or the email cell)."""
        email = str(self.table.frame.at[row, "email"]) if "email" in self.table.frame else ""
        domain = normal_address(email).rpartition("@")[2] or self.spec.domain_names[0]
        if rule == "alias_syntax":
            bad = "; ".join(f"{alias} ({reason})" for alias, reason in bad_syntax(value))
            return (
                f"has an alias that is not a valid address: {bad}",
                f"write each alias as a localpart (sales) or an address at the account's "
                f"domain (sales@{domain}), separated by ';', ',' or spaces",
            )
        if rule == "alias_domain":
            listed = foreign(value, email)
            others = sorted({a.rpartition("@")[2].lower() for a in listed})
            return (
                f"{', '.join(listed)} is not at the account's domain {domain}",
                "a localpart alias is per domain: list it on an account of "
                f"{' or '.join(others)} instead",
            )
        index = self.aliases
        if rule == "alias_is_account" and column == "email":
            rows = ", ".join(str(r) for r in index.listed_as_alias(row))
            return (
                f"is also listed as an alias on row {rows}",
                f"an address is either a mailbox or an alias: delete the alias on row {rows} "
                "or this row",
            )
        if rule == "alias_is_account":
            own = index.own_address(row)
            parts = [f"{a} is the account's own address" for a in own]
            boxes = index.mailboxes(row)
            parts += [f"{a} is also a mailbox (row {', '.join(map(str, r))})" for a, r in boxes]
            rows = ", ".join(str(r) for _, found in boxes for r in found)
            fix = (
                "an address is either a mailbox or an alias: delete the alias here or the "
                f"mailbox on row {rows}"
            )
            if own and not boxes:
                fix = "delete it from the aliases: the mailbox already receives its own mail"
            return "; ".join(parts), fix
        dupes = "; ".join(
            f"{a} is also an alias on row {', '.join(map(str, rows))}"
            for a, rows in index.duplicates(row)
        )
        return (
            dupes,
            "an alias delivers to one mailbox: keep it on one row and delete it from the other",
        )

    def header(self, rule: str, column: str) -> tuple[str, str]:
        allowed = ["email", "password"]
        if self.spec.migration.enabled:
            allowed += ["source_username", "source_password"]
        allowed.append("aliases")
        if rule == "column_in_dataframe":
            spellings = ", ".join(sorted(KNOWN_COLUMNS.get(column, ()))[:4])
            return (
                f"the required column {column} is missing from the header row",
                f"add a column headed {column} (also accepted: {spellings})",
            )
        canon = canonical_column(column)
        if canon in {"source_username", "source_password"}:
            return (
                f"is a migration column, but migration is off in {self._spec_name()}",
                "delete the column, or turn on migration in the spec",
            )
        return (
            f"is not a known column (expected: {', '.join(allowed)})",
            "rename the header to one of the expected names, or delete the column",
        )

    def _spec_name(self) -> str:
        return self.spec.spec_path.name if self.spec.spec_path else "customer.yaml"


def problems_from(
    failures: pd.DataFrame | None, table: UserTable, spec: OnboardingSpec
) -> list[UserProblem]:
    """Return the report rows for pandera's failure cases and the reader's misshapen rows."""
    describer = _Describer(table, spec)
    headers = table.headers
    frame = table.frame
    found: dict[tuple[int, str, str], UserProblem] = {}
    cells = _failing_cells(failures) if failures is not None else iter(())
    for rule, row, column in cells:
        if row is None:
            header_rule = "columns" if not rule.startswith("error:") else rule
            problem, fix = (
                describer.header(rule, column)
                if header_rule == "columns"
                else (f"could not be checked ({rule[6:]})", "report this to the developers")
            )
            name = headers.get(column, column)
            found[(1, name, rule)] = UserProblem(
                row=1, column=name, value=name, problem=problem, fix=fix, rule=header_rule
            )
            continue
        raw = str(frame.at[row, column]) if column in frame.columns else ""
        problem, fix = describer.describe(rule, column, row, raw)
        name = headers.get(column, column)
        shown = display_value(column, raw)
        if shown and shown != MASK and _holds_hidden_cell(frame, row, raw):
            shown = MASK
        found[(row, name, rule)] = UserProblem(
            row=row,
            column=name,
            value=shown,
            problem=problem,
            fix=fix,
            rule=rule,
        )
    order = {rule: i for i, rule in enumerate(_RULE_ORDER)}
    positions = {name: i for i, name in enumerate(headers.values())}
    return sorted(
        found.values(),
        key=lambda p: (p.row, positions.get(p.column, -1), order.get(p.rule, 99)),
    )


def warnings_from(table: UserTable) -> list[UserProblem]:
    """Return a warning per row whose address looks like another row's (or mixes scripts).

    Look-alike addresses may both be right (``rene@`` and ``rené@``), so they never make the
    list invalid; the operator checks them with the customer.
    """
    if "email" not in table.frame.columns:
        return []
    column = table.headers.get("email", "email")
    out = []
    for found in confusable_addresses(table.frame["email"]):
        raw = str(table.frame.at[found.row, "email"])
        parts = []
        if found.like_rows:
            rows = ", ".join(str(r) for r in found.like_rows)
            parts.append(
                f"looks like the address on row {rows} but is a different mailbox (the letters "
                "differ only by accents or look-alike characters)"
            )
        if found.mixed_scripts:
            scripts = " and ".join(s.title() for s in found.mixed_scripts)
            parts.append(f"mixes {scripts} letters that look alike")
        out.append(
            UserProblem(
                row=found.row,
                column=column,
                value=display_value("email", raw),
                problem="; ".join(parts),
                fix="check with the customer that this is the address meant; if it is, "
                "nothing to do",
                rule="confusable_address",
            )
        )
    return out
