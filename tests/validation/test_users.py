"""The UserList schema: every bad-row kind is reported with row, column, masked value and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.user_lists import GOOD_PW, check_addresses, check_user_list, in_folder

from validation.csv_reader import UserListError
from validation.spec import OnboardingSpec, PasswordPolicy
from validation.user_problems import MASK
from validation.users import (
    UserListInvalidError,
    UserListReport,
    read_user_credentials,
    validate_user_list,
)


def _found(report: UserListReport) -> set[tuple[int, str, str]]:
    return {(p.row, p.column, p.rule) for p in report.problems}


def test_example_user_list_is_valid(spec: OnboardingSpec) -> None:
    """The shipped example has 20+ valid users across both example domains."""
    report = validate_user_list(spec)
    assert report.valid and not report.problems
    assert report.rows == report.valid_rows >= 20
    assert {u.domain for u in report.users} == set(spec.domain_names)
    assert all(u.row >= 2 and u.email == u.email.lower() for u in report.users)


@pytest.mark.parametrize(
    ("line", "column", "rule", "words"),
    [
        (f",{GOOD_PW}", "email", "required", "is empty"),
        ("jane.doe@acme.test,", "password", "required", "is empty"),
        (f"jane..doe@acme.test,{GOOD_PW}", "email", "address_syntax", "two periods"),
        (f"jane.doe.acme.test,{GOOD_PW}", "email", "address_syntax", "@-sign"),
        (f"jane@gmail.com,{GOOD_PW}", "email", "customer_domain", "gmail.com"),
        (f"jane@acme.test ,{GOOD_PW}", "email", "surrounding_whitespace", "space"),
        (f"jane@acme.test,{GOOD_PW} ", "password", "surrounding_whitespace", "space"),
        (f"jane\u200b@acme.test,{GOOD_PW}", "email", "control_characters", "invisible"),
        ('jane@acme.test,"Tr7!kd\t9Lqw"', "password", "password_characters", "cannot carry"),
        ("jane@acme.test,Ab1!xyz", "password", "password_length", "10 characters"),
        ("jane@acme.test,qwxzvbnmpoiu", "password", "password_character_classes", "fewer than 3"),
        ("jane@acme.test,Password123!", "password", "password_common", "commonly used"),
        ("jane@acme.test,Sunshine2024!", "password", "password_common", "commonly used"),
        ("jane.doe@acme.test,Xq9!JANEzz1", "password", "password_contains_name", "user's name"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isidentifier() else None,
)
def test_each_bad_row_kind(
    tmp_path: Path, spec: OnboardingSpec, line: str, column: str, rule: str, words: str
) -> None:
    """One bad row is reported at spreadsheet row 3 with its rule, problem and a fix."""
    report = check_user_list(
        tmp_path, spec, f"email,password\nok.user@acme.test,{GOOD_PW}\n{line}\n"
    )
    assert not report.valid
    assert (report.valid_rows, report.invalid_rows) == (1, 1)
    hits = [p for p in report.problems if p.rule == rule]
    assert [(p.row, p.column) for p in hits] == [(3, column)]
    assert words in hits[0].problem and hits[0].fix
    assert all(p.row == 3 for p in report.problems)


def test_empty_password_is_reported_once(tmp_path: Path, spec: OnboardingSpec) -> None:
    """An empty password gets "is empty", not four policy complaints too."""
    report = check_user_list(tmp_path, spec, "email,password\njane@acme.test,\n")
    assert _found(report) == {(2, "password", "required")}


def test_valid_unusual_addresses_pass(tmp_path: Path, spec: OnboardingSpec) -> None:
    """Upper case, plus tags and international local parts are valid at a customer domain."""
    report = check_addresses(
        tmp_path, spec, "Jane.Doe@ACME.TEST", "bob+news@acme-mail.test", "rené@acme.test"
    )
    assert report.valid, report.problems
    assert [u.email for u in report.users] == [
        "jane.doe@acme.test",
        "bob+news@acme-mail.test",
        "rené@acme.test",
    ]


def test_duplicates_report_both_rows(tmp_path: Path, spec: OnboardingSpec) -> None:
    """Duplicates are found case-insensitively and each row names the other."""
    report = check_addresses(tmp_path, spec, "jane@acme.test", "bob@acme.test", "JANE@Acme.Test")
    dupes = [p for p in report.problems if p.rule == "duplicate_address"]
    assert [(p.row, p.problem.split(" (")[0]) for p in dupes] == [
        (2, "is the same address as row 4"),
        (4, "is the same address as row 2"),
    ]
    assert report.valid_rows == 1


def test_every_problem_of_every_row_in_one_run(tmp_path: Path, spec: OnboardingSpec) -> None:
    """Validation is lazy: all bad rows and all reasons come back from one call."""
    report = check_user_list(
        tmp_path,
        spec,
        "E-mail,Password,Notes\n"
        f"jane@gmail.com,short,\n"
        f"ok@acme.test,{GOOD_PW},\n"
        f"not-an-address,{GOOD_PW},\n"
        "bob@acme.test,password,\n",
    )
    assert _found(report) >= {
        (1, "Notes", "columns"),
        (2, "E-mail", "customer_domain"),
        (2, "Password", "password_length"),
        (2, "Password", "password_character_classes"),
        (4, "E-mail", "address_syntax"),
        (5, "Password", "password_common"),
        (5, "Password", "password_length"),
    }
    assert (report.rows, report.valid_rows, report.invalid_rows) == (4, 1, 3)
    rows = [p.row for p in report.problems]
    assert rows == sorted(rows), "report is in file order"


def test_unknown_column_is_named(tmp_path: Path, spec: OnboardingSpec) -> None:
    """An unknown header is reported by name on row 1; the rows themselves stay valid."""
    report = check_user_list(
        tmp_path, spec, f"email,password,Kennwort\njane@acme.test,{GOOD_PW},x\n"
    )
    (problem,) = report.problems
    assert (problem.row, problem.column, problem.value) == (1, "Kennwort", "Kennwort")
    assert "not a known column" in problem.problem and "email, password" in problem.problem
    assert not report.valid and report.valid_rows == 1


def test_missing_password_column(tmp_path: Path, spec: OnboardingSpec) -> None:
    """A missing required column is a header problem and no row can be valid."""
    report = check_user_list(tmp_path, spec, "email\njane@acme.test\n")
    assert _found(report) == {(1, "password", "columns")}
    assert "password is missing" in report.problems[0].problem
    assert (report.valid_rows, report.invalid_rows) == (0, 1)


def test_source_columns_need_migration(tmp_path: Path, no_migration: OnboardingSpec) -> None:
    """source_username/source_password are refused with the reason when migration is off."""
    report = check_user_list(
        tmp_path,
        no_migration,
        f"email,password,source_password\njane@acme.test,{GOOD_PW},old\n",
    )
    (problem,) = report.problems
    assert problem.column == "source_password" and "migration is off" in problem.problem


@pytest.mark.parametrize(
    ("csv", "problems", "users"),
    [
        (
            "email,password,Source Username,Source Password\n"
            f"jane@acme.test,{GOOD_PW},jdoe,old\n"
            f"bob@acme.test,{GOOD_PW},JDOE,\n"
            f"amy@acme.test,{GOOD_PW},amy*admin,\n"
            f"joe@acme.test,{GOOD_PW},,\n",
            {
                (2, "Source Username", "duplicate_source_username"),
                (3, "Source Username", "duplicate_source_username"),
                (4, "Source Username", "master_separator"),
            },
            [("joe@acme.test", None, False, None, None)],
        ),
        (
            "email,password,source_host,source_port\n"
            f"jane@acme.test,{GOOD_PW},IMAP2.acme.test,1143\n"
            f"bob@acme.test,{GOOD_PW},,\n"
            f"amy@acme.test,{GOOD_PW},old server,993\n"
            f"joe@acme.test,{GOOD_PW},imap3.acme.test,99999\n",
            {(4, "source_host", "source_host_syntax"), (5, "source_port", "source_port_range")},
            [
                ("jane@acme.test", None, False, "imap2.acme.test", 1143),
                ("bob@acme.test", None, False, None, None),
            ],
        ),
    ],
)
def test_source_columns_when_migrating(
    tmp_path: Path,
    spec: OnboardingSpec,
    csv: str,
    problems: set[tuple[int, str, str]],
    users: list[tuple[object, ...]],
) -> None:
    """Migration columns are optional: source logins unique and free of the master
    separator; ``source_host`` / ``source_port`` name a user's own old server (empty: the
    spec's), a port outside 1-65535 or a host that is no name is that row's problem."""
    report = check_user_list(tmp_path, spec, csv)
    assert _found(report) == problems
    assert [
        (u.email, u.source_username, u.has_source_credentials, u.source_host, u.source_port)
        for u in report.users
    ] == users


def test_policy_is_configurable(tmp_path: Path, spec: OnboardingSpec) -> None:
    """min_length, character classes and the common list follow the spec's password_policy."""
    strict = spec.model_copy(
        update={"password_policy": PasswordPolicy(min_length=16, min_character_classes=4)}
    )
    report = check_user_list(tmp_path, strict, "email,password\njane@acme.test,Tr7kd9Lqwz\n")
    assert {p.rule for p in report.problems} == {
        "password_length",
        "password_character_classes",
    }
    assert "16 characters" in report.problems[0].problem
    lax = spec.model_copy(
        update={"password_policy": PasswordPolicy(forbid_common=False, forbid_local_part=False)}
    )
    report = check_user_list(tmp_path, lax, "email,password\njane@acme.test,Password123!Jane\n")
    assert report.valid


def test_passwords_are_masked_everywhere_in_the_report(
    tmp_path: Path, spec: OnboardingSpec
) -> None:
    """Password cells show as ******** and the report's text holds no password."""
    secrets = ["Zx9!tiny", "qwxzvbnmpoiu", "Password123!", f"{GOOD_PW} "]
    lines = [f"user{i}@acme.test,{pw}" for i, pw in enumerate(secrets)]
    report = check_user_list(tmp_path, spec, "email,password,Kennwort\n" + "\n".join(lines) + "\n")
    password_cells = [p.value for p in report.problems if p.column == "password"]
    assert password_cells and set(password_cells) == {MASK}
    dump = repr(report) + repr(list(report.problems)) + repr(list(report.users))
    for secret in secrets:
        assert secret.strip() not in dump


def test_read_user_credentials_hides_passwords(spec: OnboardingSpec) -> None:
    """Later flows get SecretStr passwords whose repr shows nothing."""
    creds = read_user_credentials(spec)
    assert len(creds) == validate_user_list(spec).rows
    first = creds[0]
    secret = first.password.get_secret_value()
    assert len(secret) >= 10 and secret not in repr(first) and secret not in str(first)


def test_read_user_credentials_refuses_a_bad_list(tmp_path: Path, spec: OnboardingSpec) -> None:
    """A list with problems raises a typed error naming the file, not the passwords."""
    path = tmp_path / "users.csv"
    path.write_text("email,password\njane@acme.test,Ab1!\n", encoding="utf-8")
    with pytest.raises(UserListInvalidError) as info:
        read_user_credentials(in_folder(spec, tmp_path), path)
    assert str(path) in str(info.value) and "Ab1!" not in str(info.value)


def test_public_surface_and_no_prefect() -> None:
    """Every name in __all__ exists, and importing the engine does not import Prefect."""
    import subprocess
    import sys

    import validation.users as users

    assert all(hasattr(users, name) for name in users.__all__)
    assert {"validate_user_list", "read_user_credentials", "UserListError"} <= set(users.__all__)
    probe = "import sys, validation.users, validation.user_report; print('prefect' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_an_idn_address_is_carried_on_in_the_ascii_form_the_spec_uses(
    tmp_path: Path, spec: OnboardingSpec
) -> None:
    """A user written at an IDN domain is validated against the spec's punycode name and
    handed to provisioning in that form, so the control panel finds the domain."""
    idn = spec.model_copy(
        update={"domains": (spec.domains[0].model_copy(update={"name": "xn--bcher-kva.test"}),)}
    )
    report = check_addresses(tmp_path, idn, "anna@Bücher.test")
    assert report.valid, report.problems
    (user,) = report.users
    assert (user.email, user.domain) == ("anna@xn--bcher-kva.test", "xn--bcher-kva.test")


def _with_domains(spec: OnboardingSpec, *names: str) -> OnboardingSpec:
    domains = tuple(spec.domains[0].model_copy(update={"name": n}) for n in names)
    return spec.model_copy(update={"domains": domains})


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ren\u00e9@acme.test", "rene\u0301@acme.test"),  # NFC vs NFD
        ("anna@b\u00fccher.test", "anna@xn--bcher-kva.test"),  # IDN vs punycode
        ("anna@bu\u0308cher.test", "Anna@B\u00dcCHER.test"),  # NFD domain vs upper case
        ("jane@acme.test", "JANE@acme.test."),  # case and a trailing dot
    ],
    ids=["nfc-nfd", "idn-punycode", "nfd-domain", "case-dot"],
)
def test_spellings_of_one_mailbox_are_duplicates(
    tmp_path: Path, spec: OnboardingSpec, first: str, second: str
) -> None:
    """Two spellings of the same mailbox are a duplicate (else one password is never set)."""
    custom = _with_domains(spec, "acme.test", "xn--bcher-kva.test")
    report = check_user_list(
        tmp_path, custom, f"email,password\n{first},{GOOD_PW}\n{second},Zq8!mw3Rtx\n"
    )
    dupes = [p for p in report.problems if p.rule == "duplicate_address"]
    assert [p.row for p in dupes] == [2, 3], report.problems


def test_idna_2008_keeps_sharp_s(tmp_path: Path, spec: OnboardingSpec) -> None:
    """straße.test is xn--strae-oqa.test (IDNA 2008), not strasse.test (IDNA 2003)."""
    custom = _with_domains(spec, "xn--strae-oqa.test", "strasse.test")
    report = check_user_list(
        tmp_path,
        custom,
        f"email,password\nanna@stra\u00dfe.test,{GOOD_PW}\nanna@strasse.test,Zq8!mw3Rtx\n",
    )
    assert report.valid, report.problems
    assert [u.domain for u in report.users] == ["xn--strae-oqa.test", "strasse.test"]


def test_look_alike_addresses_are_a_warning_not_an_error(
    tmp_path: Path, spec: OnboardingSpec
) -> None:
    """jane@ and jаne@ (Cyrillic а) are different mailboxes: valid, but both rows warned,
    and the warning reaches the report rows and the summary."""
    from validation.user_report import render_markdown, report_rows, summary_line

    report = check_user_list(
        tmp_path,
        spec,
        f"email,password\njane@acme.test,{GOOD_PW}\nj\u0430ne@acme.test,Zq8!mw3Rtx\n"
        f"rene@acme.test,Wq5!pk2Lmn\nren\u00e9@acme.test,Xv4!hs7Jkb\n",
    )
    assert report.valid and len(report.users) == 4
    assert [(w.row, w.rule) for w in report.warnings] == [
        (2, "confusable_address"),
        (3, "confusable_address"),
        (4, "confusable_address"),
        (5, "confusable_address"),
    ]
    assert "row 3" in report.warnings[0].problem
    assert "Cyrillic and Latin" in report.warnings[1].problem
    assert "4 warning(s)" in summary_line(report)
    assert any(str(r["problem"]).startswith("warning:") for r in report_rows(report))
    assert "## Warnings" in render_markdown(report, "Acme")


def test_ascii_only_list_has_no_warnings(spec: OnboardingSpec) -> None:
    """The example list (ASCII) has no look-alike warnings."""
    assert validate_user_list(spec).warnings == ()


@pytest.mark.parametrize(
    "password",
    [
        "Tr7!kd\x009Lqw",
        "Tr7!kd\x7f9Lqw",
        "Tr7!kd\x859Lqw",
        "Tr7!kd\u200b9Lqw",
        "Tr7!kd\u20289Lqw",
        "Tr7!kd\ue0009Lqw",
        "Tr7!kd\u00ad9Lqw",
    ],
    ids=["nul", "del", "c1-nel", "zero-width", "line-separator", "private-use", "soft-hyphen"],
)
def test_passwords_a_login_cannot_carry_are_refused_with_the_row(
    tmp_path: Path, spec: OnboardingSpec, password: str
) -> None:
    """NUL, controls and invisible formatting characters cannot travel in IMAP LOGIN or SASL
    PLAIN: the row is refused (rule password_characters), the value masked."""
    report = check_user_list(
        tmp_path, spec, f'email,password\nok@acme.test,{GOOD_PW}\njane@acme.test,"{password}"\n'
    )
    hits = [p for p in report.problems if p.rule == "password_characters"]
    assert [(p.row, p.column, p.value) for p in hits] == [(3, "password", "********")]
    assert "cannot carry" in hits[0].problem and "UTF-8" in hits[0].fix


@pytest.mark.parametrize("text", ['jane@acme.test,"Tr7!kd\r9Lqw"', 'jane@acme.test,"Tr7!kd\n9Lqw"'])
def test_line_breaks_in_a_password_refuse_the_file_naming_the_line(
    tmp_path: Path, spec: OnboardingSpec, text: str
) -> None:
    """CR or LF in a (quoted) password: the value spans lines, so the file is refused at
    that line and the password is not in the sentence."""
    with pytest.raises(UserListError, match="line 2") as info:
        check_user_list(tmp_path, spec, f"email,password\n{text}\n")
    assert "Tr7!kd" not in str(info.value)


@pytest.mark.parametrize(
    "password", ["GrünerBaum-2024x", "Пароль-Крепкий9", "Tr7!kd9Lqw🙂", "パスワード-Secure9"]
)
def test_utf8_passwords_are_accepted(tmp_path: Path, spec: OnboardingSpec, password: str) -> None:
    """Letters and symbols of any script are fine: the login uses AUTHENTICATE PLAIN (UTF-8)."""
    report = check_user_list(tmp_path, spec, f"email,password\njane@acme.test,{password}\n")
    assert not [p for p in report.problems if p.rule == "password_characters"], report.problems


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Tr7!kd9Lqw,", "Tr7!kd9Lqw"),  # a password where the address belongs
        ("jane Tr7!kd9Lqw@acme.test,", "Tr7!kd9Lqw"),  # a space inside: maybe two cells
        ("Zq8!mw3Rtx@acme.test,Zq8!mw3Rtx", "Zq8!mw3Rtx"),  # the address holds the password
    ],
)
def test_an_email_cell_that_may_be_a_password_is_masked(
    tmp_path: Path, spec: OnboardingSpec, line: str, secret: str
) -> None:
    """An email cell is shown only when it can only be an address: never a password."""
    report = check_user_list(tmp_path, spec, f"email,password\n{line}\n")
    assert report.problems
    assert all(secret not in p.value and secret not in p.problem for p in report.problems)
