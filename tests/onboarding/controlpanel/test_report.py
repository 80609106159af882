"""Report rendering: rows, summary counts and the self-service instructions."""

from __future__ import annotations

from onboarding.controlpanel import (
    ACCOUNT_COLUMNS,
    AccountResult,
    AccountsReport,
    AliasesReport,
    AliasResult,
    LoginResult,
    ObjectResult,
    Outcome,
    SetupResult,
    account_rows,
    alias_rows,
    self_service_markdown,
    setup_rows,
    summary_markdown,
)
from onboarding.mailflow import AccountCheck


def _setup() -> SetupResult:
    return SetupResult(
        ObjectResult("customer", "Acme", Outcome.EXISTED),
        customer_uri="/api/v1/customer/1/",
    )


def test_account_rows_show_result_reason_and_login() -> None:
    """Rule: one row per account; the login column says ok, failed (why) or '-'."""
    report = AccountsReport(
        (
            AccountResult("a@x.test", Outcome.CREATED, attempts=1, login=LoginResult(True)),
            AccountResult("b@x.test", Outcome.FAILED, reason="refused (400)", attempts=1),
            AccountResult("c@x.test", Outcome.EXISTED, login=LoginResult(False, "login refused")),
        )
    )
    rows = account_rows(report)
    assert [r["imap_login"] for r in rows] == ["ok", "-", "failed: login refused"]
    assert rows[1] == {
        "email": "b@x.test",
        "result": "failed",
        "reason": "refused (400)",
        "attempts": "1",
        "imap_login": "-",
    }
    assert report.counts == {"created": 1, "already existed": 1, "failed": 1}
    assert report.reconciles and report.logins_ok == 1 and report.logins_failed == 1


def test_login_proof_is_derived_from_the_mailflow_checks() -> None:
    """Rule: with_logins records each checked account's ok/reason (mailflow's AccountCheck,
    the one login path) and leaves unchecked accounts without a proof; rows keep their shape."""
    report = AccountsReport(
        (
            AccountResult("a@x.test", Outcome.CREATED, attempts=1),
            AccountResult("b@x.test", Outcome.FAILED, reason="refused (400)", attempts=1),
            AccountResult("c@x.test", Outcome.EXISTED),
        ),
        requests={"POST": 2},
    )
    checks = (
        AccountCheck("a@x.test", True, messages=0),
        AccountCheck("c@x.test", False, error="IMAP h:143 as c@x.test: login refused: no"),
    )
    proven = report.with_logins(checks)
    assert [a.login for a in proven.accounts] == [
        LoginResult(True),
        None,
        LoginResult(False, "IMAP h:143 as c@x.test: login refused: no"),
    ]
    assert proven.requests == report.requests and (proven.logins_ok, proven.logins_failed) == (1, 1)
    rows = account_rows(proven)
    assert [r["imap_login"] for r in rows] == [
        "ok",
        "-",
        "failed: IMAP h:143 as c@x.test: login refused: no",
    ]
    assert list(rows[0]) == list(ACCOUNT_COLUMNS)
    assert LoginResult.of(AccountCheck("d@x.test", False)) == LoginResult(False, "login failed")


def test_summary_counts_reconcile_and_list_failures() -> None:
    """Rule: the summary states every count, whether they reconcile, and each failure."""
    report = AccountsReport(
        (
            AccountResult("a@x.test", Outcome.CREATED, login=LoginResult(True)),
            AccountResult("b@x.test", Outcome.FAILED, reason="refused"),
        ),
        requests={"GET": 2, "POST": 2},
    )
    text = summary_markdown("Acme", _setup(), report, self_service=False)
    assert "- created: 1" in text and "- failed: 1" in text
    assert "- counts reconcile: yes" in text
    assert "| b@x.test | refused |" in text
    assert "HTTP requests: 4 (GET 2, POST 2)" in text
    assert setup_rows(_setup())[0]["result"] == "already existed"


def _instructions(aliases: dict[str, tuple[str, ...]] | None = None) -> str:
    return self_service_markdown(
        "Acme",
        ["acme.test"],
        ["a@acme.test", "b@acme.test"],
        imap_host="imap.example.test",
        imap_port=993,
        smtp_host="smtp.example.test",
        control_panel="https://admin.example.test",
        aliases=aliases,
    )


def test_self_service_instructions_name_servers_and_addresses() -> None:
    """Rule: the instructions give IMAP/SMTP settings and every expected address."""
    text = _instructions()
    assert "imap.example.test port 993" in text and "smtp.example.test" in text
    assert "- a@acme.test" in text and "- b@acme.test" in text
    assert "https://admin.example.test" in text
    assert "Aliases" not in text


def test_self_service_instructions_list_each_users_aliases() -> None:
    """Rule: a user with aliases sees them next to their address and a step to add them."""
    text = _instructions({"a@acme.test": ("sales", "info")})
    assert "- a@acme.test (aliases: sales@acme.test, info@acme.test)" in text
    assert "- b@acme.test\n" in text
    assert "**Aliases** tab" in text


def _aliases() -> AliasesReport:
    return AliasesReport(
        (
            AliasResult("sales@x.test", "a@x.test", Outcome.CREATED, attempts=1),
            AliasResult("info@x.test", "a@x.test", Outcome.EXISTED),
            AliasResult(
                "billing@x.test",
                "a@x.test",
                Outcome.CONFLICT,
                reason="billing@x.test already delivers to c@x.test in the control panel",
                action="remove it from c@x.test in the control panel and re-run",
            ),
            AliasResult("help@x.test", "b@x.test", Outcome.FAILED, reason="refused (400)"),
        ),
        requests={"GET": 1, "POST": 2},
    )


def test_alias_rows_and_the_account_table_column() -> None:
    """Rule: one row per alias with its outcome; the account table lists each account's aliases."""
    rows = alias_rows(_aliases())
    assert [(r["alias"], r["result"]) for r in rows] == [
        ("sales@x.test", "created"),
        ("info@x.test", "already existed"),
        ("billing@x.test", "conflict"),
        ("help@x.test", "failed"),
    ]
    assert rows[2]["action"].startswith("remove it from c@x.test")
    accounts = AccountsReport(
        (AccountResult("a@x.test", Outcome.CREATED), AccountResult("b@x.test", Outcome.EXISTED))
    )
    table = account_rows(accounts, _aliases())
    assert table[0]["aliases"] == "sales (created); info (already existed); billing (conflict)"
    assert table[1]["aliases"] == "help (failed)"
    assert "aliases" not in account_rows(accounts)[0], "without aliases the columns are unchanged"


def test_summary_has_alias_counts_and_lists_conflicts_and_failures() -> None:
    """Rule: the summary counts aliases by outcome, reconciles them and says what to do."""
    report = AccountsReport((AccountResult("a@x.test", Outcome.CREATED),))
    aliases = _aliases()
    assert aliases.reconciles
    assert aliases.counts == {"created": 1, "already existed": 1, "failed": 1, "conflict": 1}
    text = summary_markdown("Acme", _setup(), report, self_service=False, aliases=aliases)
    assert "## Aliases" in text and "- conflict: 1" in text and "- failed: 1" in text
    assert "| billing@x.test | a@x.test | conflict |" in text
    assert "| help@x.test | b@x.test | failed | refused (400) |" in text
    assert "## Aliases" not in summary_markdown(
        "Acme", _setup(), None, self_service=True, aliases=aliases
    )
