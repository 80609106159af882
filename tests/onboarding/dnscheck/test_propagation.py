"""Propagation matching and verdicts on literal answers (the lab tests do the real DNS)."""

from __future__ import annotations

from onboarding.dnscheck.propagation import (
    ExpectedRecord,
    Match,
    Observation,
    PropagationReport,
    RecordState,
)
from onboarding.dnscheck.query import Answer, AnswerStatus, Server

S = Server("127.0.0.1", 10054)


def _ok(*records: str, ttl: int = 60) -> Answer:
    return Answer("acme.test", "TXT", S, AnswerStatus.OK, records, ttl=ttl)


def test_exact_mx_match_ignores_case_and_trailing_dot() -> None:
    """An exact MX match ignores case and the trailing dot, but an extra MX record is no match."""
    exp = ExpectedRecord("acme.test", "MX", ("10 mail.mailroute.test",), Match.EXACT)
    assert exp.matches(_ok("10 Mail.MailRoute.test."))
    assert not exp.matches(_ok("10 mail.mailroute.test.", "20 mx.old.test."))


def test_spf_match_needs_exactly_one_record_with_our_include() -> None:
    """An SPF match needs exactly one SPF record and it must hold our include; other TXT records do
    not count, and NXDOMAIN is no match."""
    exp = ExpectedRecord("acme.test", "TXT", ("spf.mailroute.test",), Match.SPF)
    assert exp.matches(_ok("v=spf1 mx include:spf.mailroute.test ~all", "other"))
    assert not exp.matches(_ok("v=spf1 include:spf.mailroute.test ~all", "v=spf1 -all"))
    assert not exp.matches(_ok("v=spf1 mx ~all"))
    nx = Answer("acme.test", "TXT", S, AnswerStatus.NXDOMAIN, negative_ttl=30)
    assert not exp.matches(nx)


def test_eta_is_the_largest_remaining_ttl_among_stale_answers() -> None:
    """The ETA is the largest remaining TTL of the stale answers (0 when none is stale);
    authoritative servers with different serials are not propagated."""

    def obs(role: str, state: RecordState, ttl: int | None = None) -> Observation:
        return Observation("s", role, "acme.test", "MX", state, ttl=ttl)

    report = PropagationReport(
        "acme.test",
        (("a", 7), ("b", 7)),
        (
            obs("authoritative", RecordState.CURRENT),
            obs("resolver", RecordState.STALE, 120),
            obs("resolver", RecordState.STALE, 30),
            obs("resolver", RecordState.CURRENT, 5),
        ),
    )
    assert report.published and report.serials_equal and not report.propagated
    assert report.eta_seconds == 120
    done = PropagationReport("acme.test", (("a", 7),), (obs("resolver", RecordState.CURRENT),))
    assert done.eta_seconds == 0
    lagging = PropagationReport("acme.test", (("a", 7), ("b", 6)), ())
    assert not lagging.serials_equal and not lagging.propagated
