"""The user list (``users.csv``): a pandera schema and the row-by-row report an operator fixes.

Runbook phase 1 collects one CSV per customer: an email address and a password per mailbox,
an optional ``aliases`` column (other localparts of the domain delivering to the mailbox, see
:mod:`validation.aliases`), plus, when the migration logs in as each user, optional
``source_username`` / ``source_password`` columns, and ``source_host`` / ``source_port`` for
a customer spread over several old servers (empty: ``migration.source``'s).
:func:`validate_user_list` checks every row against :class:`UserList` lazily, so one run
lists every bad row and every reason; the result carries no password.
:func:`load_user_list` gives the report and the passwords from one read (a flow keeps the
passwords in its run's vault, :mod:`tasks.vault`), as :class:`pydantic.SecretStr`, never as
a flow parameter or a returned value.

Spec-dependent rules (the customer's domains, the password policy, the master-login
separator) are class attributes of a per-spec subclass made by :func:`schema_for`; check
functions are named exactly like their checks because pandera reports the function name for
checks inherited by a subclass.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.typing import Series
from pydantic import BaseModel, ConfigDict, SecretStr

from validation import password_policy as policy_checks
from validation.addresses import (
    ascii_domain,
    comparison_keys,
    domain_of,
    local_part_of,
    valid_addresses,
)
from validation.aliases import AliasIndex, alias_localparts, bad_syntax, foreign
from validation.csv_reader import UserListError, UserTable, read_user_table, user_csv_path
from validation.spec import OnboardingSpec, PasswordPolicy
from validation.user_problems import (
    CONTROL_CHARACTERS,
    UserProblem,
    problems_from,
    warnings_from,
)

logger = logging.getLogger(__name__)

__all__ = [
    "MigrationUserList",
    "UserCredentials",
    "UserList",
    "UserListError",
    "UserListInvalidError",
    "UserListReport",
    "UserProblem",
    "UserSelectionError",
    "ValidatedUser",
    "load_user_list",
    "read_user_credentials",
    "require_valid",
    "schema_for",
    "select_users",
    "user_csv_path",
    "validate_user_list",
]


class _HasEmail(Protocol):
    @property
    def email(self) -> str: ...


U = TypeVar("U", bound=_HasEmail)


class UserSelectionError(UserListError):
    """Raised when ``--users`` names an address that is not in the user list (or none)."""


class UserListInvalidError(UserListError):
    """Raised when a later flow asks for credentials but the user list still has problems."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


@dataclass(frozen=True, slots=True)
class ValidatedUser:
    """A mailbox to create, as later flows see it: no password, only whether one was given.

    A slotted dataclass rather than a pydantic model: 100,000 of these cost 0.1 s, not 0.6 s.
    """

    row: int
    email: str  # lower-cased: addresses are compared case-insensitively everywhere
    local_part: str
    domain: str
    source_username: str | None = None
    has_source_credentials: bool = False
    aliases: tuple[str, ...] = ()  # localparts at ``domain``, lower-cased, each once
    source_host: str | None = None  # this user's old server, when not migration.source's
    source_port: int | None = None


class UserCredentials(_Model):
    """One user's passwords, for use inside a task only; ``repr`` shows ``**********``."""

    row: int
    email: str
    password: SecretStr
    source_username: str | None = None
    source_password: SecretStr | None = None
    aliases: tuple[str, ...] = ()  # localparts at the address's domain that deliver here
    source_host: str | None = None  # this user's old server, when not migration.source's
    source_port: int | None = None


@dataclass(frozen=True, slots=True)
class UserListReport:
    """What validation found: counts that reconcile, every problem, and the valid users."""

    path: str
    valid: bool
    rows: int
    valid_rows: int
    invalid_rows: int
    blank_rows: int = 0
    problems: tuple[UserProblem, ...] = ()
    warnings: tuple[UserProblem, ...] = ()  # look-alike addresses: worth a look, not errors
    users: tuple[ValidatedUser, ...] = ()
    run_folder: str | None = None  # set by the flow once the report files are written

    @property
    def reconciles(self) -> bool:
        """True when every data row is counted exactly once, as valid or invalid."""
        return self.rows == self.valid_rows + self.invalid_rows and self.valid_rows == len(
            self.users
        )


_SOURCE_HOST = r"[A-Za-z0-9][A-Za-z0-9.\-]{0,252}|\[[0-9A-Fa-f:.]+\]"  # a name or an IP
_PASSWORD_COLUMNS = frozenset({"password", "source_password"})


def _unique_or_empty(values: Series[str], column: str) -> Series[bool]:
    """True where a value is empty or appears once, compared as :func:`comparison_keys`."""
    key = comparison_keys(values, column)
    return ~key.duplicated(keep=False) | (key == "")  # type: ignore[return-value]


def _has_aliases(df: pd.DataFrame) -> bool:
    """True when the frame has accounts and at least one non-empty aliases cell."""
    return {"email", "aliases"} <= set(df.columns) and bool(df["aliases"].str.strip().any())


def _cells(df: pd.DataFrame, **failing: pd.Series) -> pd.DataFrame:
    """Return an element-wise check result: True except where a named column's Series is."""
    out = pd.DataFrame(True, index=df.index, columns=df.columns)
    for column, ok in failing.items():
        out[column] = ok
    return out


class UserList(pa.DataFrameModel):
    """One row per mailbox, in file order: the address and its new password."""

    email: Series[str] = pa.Field(str_length={"min_value": 1}, description="mailbox address")
    password: Series[str] = pa.Field(str_length={"min_value": 1}, description="new password")
    aliases: Series[str] | None = pa.Field(description="other localparts of the domain")

    _domains: frozenset[str] = frozenset()
    _policy: PasswordPolicy = PasswordPolicy()
    _master_separator: str | None = None

    @pa.check("email", name="address_syntax")
    @classmethod
    def address_syntax(cls, email: Series[str]) -> Series[bool]:
        return valid_addresses(email)  # type: ignore[return-value]

    @pa.check("email", name="customer_domain")
    @classmethod
    def customer_domain(cls, email: Series[str]) -> Series[bool]:
        # Invalid addresses are reported by address_syntax alone.
        checkable = valid_addresses(email) & (email.str.strip() != "")
        return ~checkable | domain_of(email).isin(cls._domains)  # type: ignore[return-value]

    @pa.check("email", name="duplicate_address")
    @classmethod
    def duplicate_address(cls, email: Series[str]) -> Series[bool]:
        # Field(unique=True) compares exact text; addresses match case-insensitively, trimmed.
        return _unique_or_empty(email, "email")

    @pa.check("password", name="password_length")
    @classmethod
    def password_length(cls, password: Series[str]) -> Series[bool]:
        return policy_checks.long_enough(password, cls._policy.min_length)  # type: ignore[return-value]

    @pa.check("password", name="password_character_classes")
    @classmethod
    def password_character_classes(cls, password: Series[str]) -> Series[bool]:
        enough = policy_checks.character_classes(password) >= cls._policy.min_character_classes
        return enough | (password == "")  # type: ignore[return-value]

    @pa.check("password", name="password_common")
    @classmethod
    def password_common(cls, password: Series[str]) -> Series[bool]:
        if not cls._policy.forbid_common:
            return password == password  # type: ignore[return-value]
        return ~policy_checks.is_common(password)  # type: ignore[return-value]

    @pa.dataframe_check(name="password_contains_name")
    @classmethod
    def password_contains_name(cls, df: pd.DataFrame) -> Series[bool]:
        if not cls._policy.forbid_local_part or not {"email", "password"} <= set(df.columns):
            return pd.Series(True, index=df.index)  # type: ignore[return-value]
        return policy_checks.avoids_local_part(df["password"], local_part_of(df["email"]))  # type: ignore[return-value]

    @pa.check("aliases", name="alias_syntax")
    @classmethod
    def alias_syntax(cls, aliases: Series[str]) -> Series[bool]:
        return aliases.map(lambda cell: not bad_syntax(cell)).astype(bool)  # type: ignore[return-value]

    @pa.dataframe_check(name="alias_domain")
    @classmethod
    def alias_domain(cls, df: pd.DataFrame) -> pd.DataFrame:
        if not _has_aliases(df):
            return _cells(df)
        ok = [
            "@" not in email or not foreign(cell, email)
            for email, cell in zip(df["email"].tolist(), df["aliases"].tolist(), strict=True)
        ]
        return _cells(df, aliases=pd.Series(ok, index=df.index))

    @pa.dataframe_check(name="alias_is_account")
    @classmethod
    def alias_is_account(cls, df: pd.DataFrame) -> pd.DataFrame:
        # An address is a mailbox or an alias, never both: both rows are reported.
        if not _has_aliases(df):
            return _cells(df)
        index = AliasIndex.build(df)
        rows = df.index.tolist()
        alias_ok = [not index.mailboxes(r) and not index.own_address(r) for r in rows]
        email_ok = [not index.listed_as_alias(r) for r in rows]
        return _cells(
            df,
            aliases=pd.Series(alias_ok, index=df.index),
            email=pd.Series(email_ok, index=df.index),
        )

    @pa.dataframe_check(name="duplicate_alias")
    @classmethod
    def duplicate_alias(cls, df: pd.DataFrame) -> pd.DataFrame:
        if not _has_aliases(df):
            return _cells(df)
        index = AliasIndex.build(df)
        ok = [not index.duplicates(r) for r in df.index.tolist()]
        return _cells(df, aliases=pd.Series(ok, index=df.index))

    @pa.dataframe_check(name="surrounding_whitespace")
    @classmethod
    def surrounding_whitespace(cls, df: pd.DataFrame) -> pd.DataFrame:
        return df.apply(lambda column: column.str.strip() == column)

    @pa.dataframe_check(name="control_characters")
    @classmethod
    def control_characters(cls, df: pd.DataFrame) -> pd.DataFrame:
        # Passwords have their own rule (password_characters), with the login's reason.
        return df.apply(
            lambda column: (
                pd.Series(True, index=column.index)
                if column.name in _PASSWORD_COLUMNS
                else ~column.str.contains(CONTROL_CHARACTERS, regex=True)
            )
        )

    @pa.dataframe_check(name="password_characters")
    @classmethod
    def password_characters(cls, df: pd.DataFrame) -> pd.DataFrame:
        # UTF-8 is fine (the login uses AUTHENTICATE PLAIN); NUL, CR, LF and other controls
        # cannot travel in an IMAP or SASL login, so the mailbox could never be logged in to.
        checked = {c: policy_checks.login_safe(df[c]) for c in _PASSWORD_COLUMNS & set(df)}
        return _cells(df, **checked)

    class Config:
        name = "UserList"
        strict = True  # unknown columns are reported by name
        coerce = True


class MigrationUserList(UserList):
    """The user list when migrating: optional login and password on the old server."""

    source_username: Series[str] | None = pa.Field(description="login on the old server")
    source_password: Series[str] | None = pa.Field(description="password on the old server")
    source_host: Series[str] | None = pa.Field(description="this user's old server, if another")
    source_port: Series[str] | None = pa.Field(description="its IMAP port")

    @pa.check("source_host", name="source_host_syntax")
    @classmethod
    def source_host_syntax(cls, source_host: Series[str]) -> Series[bool]:
        return (source_host == "") | source_host.str.fullmatch(_SOURCE_HOST)  # type: ignore[return-value]

    @pa.check("source_port", name="source_port_range")
    @classmethod
    def source_port_range(cls, source_port: Series[str]) -> Series[bool]:
        number = pd.to_numeric(source_port.where(source_port.str.fullmatch(r"\d{1,5}")), "coerce")
        return (source_port == "") | ((number >= 1) & (number <= 65535))  # type: ignore[return-value]

    @pa.check("source_username", name="duplicate_source_username")
    @classmethod
    def duplicate_source_username(cls, source_username: Series[str]) -> Series[bool]:
        # Two users copying the same old mailbox would each get the other's mail.
        return _unique_or_empty(source_username, "source_username")

    @pa.check("source_username", name="master_separator")
    @classmethod
    def master_separator(cls, source_username: Series[str]) -> Series[bool]:
        if not cls._master_separator:
            return source_username == source_username  # type: ignore[return-value]
        return ~source_username.str.contains(cls._master_separator, regex=False)  # type: ignore[return-value]

    class Config:
        name = "MigrationUserList"
        strict = True
        coerce = True


def schema_for(spec: OnboardingSpec) -> type[UserList]:
    """Return the schema for this customer: its domains, policy and migration columns."""
    base = MigrationUserList if spec.migration.enabled else UserList
    source = spec.migration.source
    master = source is not None and source.auth.mode == "master"
    separator = source.auth.master_separator if source is not None and master else None
    return type(
        base.__name__,
        (base,),
        {
            "_domains": frozenset(spec.domain_names),
            "_policy": spec.password_policy,
            "_master_separator": separator,
            "__module__": __name__,
        },
    )


def _check(spec: OnboardingSpec, csv_path: str | Path | None) -> tuple[UserListReport, UserTable]:
    table = read_user_table(user_csv_path(spec, csv_path))
    logger.debug("validating the user list %s (%d rows)", table.path, table.rows)
    frame = table.frame
    try:
        schema_for(spec).validate(frame, lazy=True)
        failures = None
    except SchemaErrors as exc:  # its message quotes cell values: never let it escape
        failures = exc.failure_cases
    problems = problems_from(failures, table, spec)
    bad_rows = {p.row for p in problems if p.row > 1}
    # An unknown column fails the file but not its rows; a missing required column fails all.
    complete = {"email", "password"} <= set(frame.columns)
    good = frame[~frame.index.isin(bad_rows)] if complete else frame.iloc[0:0]
    users = _validated_users(good)
    return (
        UserListReport(
            path=str(table.path),
            valid=not problems,
            rows=table.rows,
            valid_rows=len(users),
            invalid_rows=table.rows - len(users),
            blank_rows=table.blank_rows,
            problems=tuple(problems),
            warnings=tuple(warnings_from(table)),
            users=users,
        ),
        table,
    )


def _validated_users(frame: pd.DataFrame) -> tuple[ValidatedUser, ...]:
    if frame.empty:
        return ()
    empty = [""] * len(frame)
    usernames = frame["source_username"].tolist() if "source_username" in frame else empty
    hosts = frame["source_host"].tolist() if "source_host" in frame else empty
    ports = frame["source_port"].tolist() if "source_port" in frame else empty
    source_pw = frame["source_password"].tolist() if "source_password" in frame else empty
    aliases = frame["aliases"].tolist() if "aliases" in frame else empty
    users = []
    for row, email, user, pw, cell, host, port in zip(
        frame.index.tolist(),
        frame["email"].tolist(),
        usernames,
        source_pw,
        aliases,
        hosts,
        ports,
        strict=True,
    ):
        local, _, domain = unicodedata.normalize("NFC", email).lower().rpartition("@")
        # The spec names domains in ASCII (IDN as punycode), and so does the control panel:
        # the address the later phases use must match, whatever form the CSV wrote.
        domain = ascii_domain(domain)
        users.append(
            ValidatedUser(
                row=row,
                email=f"{local}@{domain}",
                local_part=local,
                domain=domain,
                source_username=user or None,
                has_source_credentials=bool(pw),
                aliases=alias_localparts(cell),
                source_host=host.lower() or None,
                source_port=int(port) if port else None,
            )
        )
    return tuple(users)


def validate_user_list(spec: OnboardingSpec, csv_path: str | Path | None = None) -> UserListReport:
    """Check the customer's user CSV (``spec.users_csv`` unless ``csv_path`` is given).

    Return a report (never containing a password) whether or not rows are invalid; raise
    :class:`UserListError` when the file itself is unusable.
    """
    return _check(spec, csv_path)[0]


def load_user_list(
    spec: OnboardingSpec, csv_path: str | Path | None = None
) -> tuple[UserListReport, tuple[UserCredentials, ...]]:
    """Check the user CSV once and return the report and, for a list without problems, every
    valid user's passwords (as SecretStr; empty when the list has problems).

    One read and one validation serve both the report a flow publishes and the passwords its
    tasks need, so a flow run never validates the same file twice. Keep the credentials in
    memory only: never a task parameter, result or cache key.
    """
    report, table = _check(spec, csv_path)
    if not report.valid:
        return report, ()
    frame = table.frame
    empty = pd.Series("", index=frame.index)
    return report, tuple(
        UserCredentials(
            row=user.row,
            email=user.email,
            password=SecretStr(password),
            source_username=user.source_username,
            source_password=SecretStr(source_pw) if source_pw else None,
            aliases=user.aliases,
            source_host=user.source_host,
            source_port=user.source_port,
        )
        for user, password, source_pw in zip(
            report.users,
            frame["password"],
            frame.get("source_password", empty),
            strict=True,
        )
    )


def require_valid(report: UserListReport) -> UserListReport:
    """Return ``report`` when the list has no problem; raise :class:`UserListInvalidError`."""
    if not report.valid:
        raise UserListInvalidError(
            f"{report.path}: {len(report.problems)} problem(s) in the user list; run "
            "`onboard validate` and fix them first",
            path=Path(report.path),
        )
    return report


def select_users(users: Sequence[U], wanted: Iterable[str] | None, *, path: Path) -> tuple[U, ...]:
    """Return ``users`` filtered to ``wanted`` (all when None), in ``wanted``'s order.

    Addresses compare trimmed and case-insensitively; an address not in the list (``path``)
    raises :class:`UserSelectionError` naming it.
    """
    if wanted is None:
        return tuple(users)
    by_email = {u.email: u for u in users}
    picked: list[U] = []
    unknown: list[str] = []
    for address in wanted:
        address = address.strip().lower()
        if not address:
            continue
        if address in by_email:
            if by_email[address] not in picked:
                picked.append(by_email[address])
        else:
            unknown.append(address)
    if unknown:
        raise UserSelectionError(
            f"--users: {', '.join(unknown)} not in the user list; pass addresses from the CSV",
            path=path,
        )
    if not picked:
        raise UserSelectionError(
            "--users: no address given; pass a@x,b@y or leave the option out", path=path
        )
    return tuple(picked)


def read_user_credentials(
    spec: OnboardingSpec, csv_path: str | Path | None = None
) -> list[UserCredentials]:
    """Return every user's passwords (as SecretStr) from a user list that validates cleanly.

    Call this inside a task with ``persist_result=False, cache_policy=NO_CACHE``; raise
    :class:`UserListInvalidError` when the list has problems (run ``onboard validate``).
    """
    report, credentials = load_user_list(spec, csv_path)
    require_valid(report)
    return list(credentials)
