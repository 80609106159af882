"""The optional aliases column: parsed into localparts, and each bad alias named by row and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.user_lists import GOOD_PW, check_user_list

from validation.aliases import alias_localparts, bad_syntax, foreign, parse_aliases
from validation.spec import OnboardingSpec
from validation.users import UserListReport, validate_user_list


def _check(
    tmp_path: Path, spec: OnboardingSpec, *lines: str, header: str = "email,password,aliases"
) -> UserListReport:
    """Validate a users.csv of these rows (under ``header``) against ``spec``."""
    return check_user_list(tmp_path, spec, header + "\n" + "".join(f"{line}\n" for line in lines))


def test_cells_split_on_semicolons_commas_and_whitespace() -> None:
    """Rule: ';', ',' and whitespace separate aliases; localparts are lower-cased, kept once."""
    assert alias_localparts(" Sales; info,billing  help\tdesk ") == (
        "sales",
        "info",
        "billing",
        "help",
        "desk",
    )
    assert alias_localparts("sales@Acme.Test;SALES;info") == ("sales", "info")
    assert alias_localparts("") == ()
    assert [a.domain for a in parse_aliases("a@Acme.Test. b")] == ["acme.test", None]


def test_pure_checks_name_the_offending_alias() -> None:
    """Rule: syntax goes through email-validator; a foreign domain is named as written."""
    assert bad_syntax("sales info@acme.test") == []
    ((alias, reason),) = bad_syntax("sales sa..les")
    assert alias == "sa..les" and "two periods" in reason
    assert foreign("sales@acme.test x@Other.test", "jane@acme.test") == ["x@Other.test"]


@pytest.mark.parametrize("use_migration", [False, True], ids=["plain", "migration"])
def test_valid_aliases_reach_the_validated_user(
    tmp_path: Path, spec: OnboardingSpec, no_migration: OnboardingSpec, use_migration: bool
) -> None:
    """Both user lists accept the column; users get localparts, lower-cased, de-duplicated."""
    report = _check(
        tmp_path,
        spec if use_migration else no_migration,
        f'jane@acme.test,{GOOD_PW},"Sales, info@ACME.test sales"',
        f"bob@acme-mail.test,{GOOD_PW},",
        f"eve@acme-mail.test,{GOOD_PW},sales",  # same localpart, other domain: fine
    )
    assert report.valid, report.problems
    assert [u.aliases for u in report.users] == [("sales", "info"), (), ("sales",)]


@pytest.mark.parametrize(
    "header", ["aliases", "alias", "Aliases", "email_aliases", "Other Addresses"]
)
def test_header_spellings_are_accepted(tmp_path: Path, spec: OnboardingSpec, header: str) -> None:
    """Rule: the usual spellings of the column header all mean aliases."""
    report = _check(
        tmp_path, spec, f"jane@acme.test,{GOOD_PW},info", header=f"email,password,{header}"
    )
    assert report.valid, report.problems
    assert report.users[0].aliases == ("info",)


@pytest.mark.parametrize(
    ("cell", "rule", "words", "fix"),
    [
        ("sales sa..les", "alias_syntax", "sa..les (", "a localpart (sales)"),
        ("a<b", "alias_syntax", "not a valid address", "separated by"),
        ("#sales", "alias_syntax", "may not start with #", "a localpart (sales)"),
        ("vertrieb-ü", "alias_syntax", "only ASCII letters", "a localpart (sales)"),
        (
            "sales@acme-mail.test",
            "alias_domain",
            "is not at the account's domain acme.test",
            "list it on an account of acme-mail.test",
        ),
        (
            "jane",
            "alias_is_account",
            "jane@acme.test is the account's own address",
            "delete it from the aliases",
        ),
    ],
    ids=["syntax", "syntax-char", "syntax-hash", "syntax-non-ascii", "other-domain", "own-address"],
)
def test_each_bad_alias_kind_names_row_column_and_fix(
    tmp_path: Path, spec: OnboardingSpec, cell: str, rule: str, words: str, fix: str
) -> None:
    """One bad aliases cell is reported at row 3, column as written, with its value and fix."""
    report = _check(
        tmp_path,
        spec,
        f"ok@acme.test,{GOOD_PW},",
        f'jane@acme.test,{GOOD_PW},"{cell}"',
        header="email,password,Aliases",
    )
    (problem,) = report.problems
    assert (problem.row, problem.column, problem.rule) == (3, "Aliases", rule)
    assert problem.value == cell, "aliases are not secret: the cell is shown"
    assert words in problem.problem and fix in problem.fix
    assert (report.valid_rows, report.invalid_rows) == (1, 1)


def test_alias_that_is_a_mailbox_in_the_list_reports_both_rows(
    tmp_path: Path, spec: OnboardingSpec
) -> None:
    """Rule: an address is a mailbox or an alias; the two rows name each other."""
    report = _check(
        tmp_path,
        spec,
        f"info@acme.test,{GOOD_PW},",
        f"ok@acme.test,{GOOD_PW},",
        f"jane@acme.test,{GOOD_PW},INFO",
    )
    found = {(p.row, p.column): p for p in report.problems}
    assert set(found) == {(2, "email"), (4, "aliases")}
    assert {p.rule for p in found.values()} == {"alias_is_account"}
    assert "listed as an alias on row 4" in found[(2, "email")].problem
    assert "info@acme.test is also a mailbox (row 2)" in found[(4, "aliases")].problem
    assert "mailbox on row 2" in found[(4, "aliases")].fix
    assert report.valid_rows == 1


def test_same_alias_on_two_accounts_reports_both_rows(tmp_path: Path, spec: OnboardingSpec) -> None:
    """Rule: an alias delivers to one mailbox; localpart or address form, both rows are named."""
    report = _check(
        tmp_path,
        spec,
        f"jane@acme.test,{GOOD_PW},sales",
        f"bob@acme.test,{GOOD_PW},",
        f"eve@acme.test,{GOOD_PW},Sales@acme.test",
    )
    dupes = [(p.row, p.column, p.problem) for p in report.problems if p.rule == "duplicate_alias"]
    assert dupes == [
        (2, "aliases", "sales@acme.test is also an alias on row 4"),
        (4, "aliases", "sales@acme.test is also an alias on row 2"),
    ]
    assert len(report.problems) == 2 and report.problems[0].fix.startswith("an alias delivers")


def test_every_alias_problem_in_one_run_with_other_problems(
    tmp_path: Path, spec: OnboardingSpec
) -> None:
    """Lazy validation: alias problems come with the address and password problems of the file."""
    report = _check(
        tmp_path,
        spec,
        f"jane@gmail.com,{GOOD_PW},x@y..z",
        "bob@acme.test,short,billing",
        f"eve@acme.test,{GOOD_PW},billing; info@acme-mail.test",
    )
    found = {(p.row, p.column, p.rule) for p in report.problems}
    assert found >= {
        (2, "email", "customer_domain"),
        (2, "aliases", "alias_syntax"),
        (3, "password", "password_length"),
        (3, "aliases", "duplicate_alias"),
        (4, "aliases", "duplicate_alias"),
        (4, "aliases", "alias_domain"),
    }
    assert report.valid_rows == 0


def test_unknown_columns_are_still_named_next_to_aliases(
    tmp_path: Path, spec: OnboardingSpec
) -> None:
    """An aliases column does not hide an unknown column, and the header lists aliases as known."""
    report = _check(
        tmp_path, spec, f"jane@acme.test,{GOOD_PW},info,x", header="email,password,aliases,Notes"
    )
    (problem,) = report.problems
    assert (problem.row, problem.column, problem.rule) == (1, "Notes", "columns")
    assert "aliases" in problem.problem


def test_example_user_list_has_aliases_on_both_domains(spec: OnboardingSpec) -> None:
    """The shipped example still validates (22 users) and lists aliases on both domains."""
    report = validate_user_list(spec)
    assert report.valid and report.rows == report.valid_rows == 22
    with_aliases = {u.email: u.aliases for u in report.users if u.aliases}
    assert {e.split("@")[1] for e in with_aliases} == set(spec.domain_names)
    assert with_aliases["bob.baker@acme.test"] == ("billing",)
