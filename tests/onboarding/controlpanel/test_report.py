"""Report rendering: rows, summary counts and the self-service instructions."""

from __future__ import annotations

from onboarding.controlpanel import (
    AccountResult,
    AccountsReport,
    LoginResult,
    ObjectResult,
    Outcome,
    SetupResult,
    account_rows,
    self_service_markdown,
    setup_rows,
    summary_markdown,
)


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


def test_self_service_instructions_name_servers_and_addresses() -> None:
    """Rule: the instructions give IMAP/SMTP settings and every expected address."""
    text = self_service_markdown(
        "Acme",
        ["acme.test"],
        ["a@acme.test", "b@acme.test"],
        imap_host="imap.example.test",
        imap_port=993,
        smtp_host="smtp.example.test",
        control_panel="https://admin.example.test",
    )
    assert "imap.example.test port 993" in text and "smtp.example.test" in text
    assert "- a@acme.test" in text and "- b@acme.test" in text
    assert "https://admin.example.test" in text
