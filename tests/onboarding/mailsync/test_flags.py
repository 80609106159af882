"""Flags kept by the destination (I4): PERMANENTFLAGS filter, \\Recent never sent."""

from __future__ import annotations

from onboarding.mailsync.flags import FlagFilter


def test_recent_never_sent_and_unknown_system_flag_dropped() -> None:
    """\\Recent is never sent (RFC 3501 2.3.2) nor reported; a system flag the destination does not
    list in PERMANENTFLAGS is dropped; keywords pass with \\*."""
    f = FlagFilter.from_permanent(["\\Seen", "\\Flagged", "\\*"])
    kept, dropped = f.split(["\\Recent", "\\Seen", "\\Answered", "$Work"])
    assert kept == ("$Work", "\\Seen")
    assert dropped == ("\\Answered",)


def test_keywords_need_backslash_star_or_listing() -> None:
    """Without \\* in PERMANENTFLAGS only listed keywords are kept; the others are dropped."""
    f = FlagFilter.from_permanent(["\\Seen", "$Known"])
    assert f.split(["$Known", "$Other"]) == (("$Known",), ("$Other",))


def test_refused_keywords_are_dropped_afterwards() -> None:
    """A keyword the server refused once is dropped from then on, compared without case."""
    f = FlagFilter.from_permanent(["\\Seen", "\\*"]).refuse(["LongKeyword"])
    assert f.split(["longkeyword", "\\Seen"]) == (("\\Seen",), ("longkeyword",))


def test_no_permanentflags_means_all_allowed() -> None:
    """A server that sends no PERMANENTFLAGS allows every flag (RFC 3501 7.1)."""
    f = FlagFilter.from_permanent([])
    assert f.split(["\\Draft", "x"]) == (("\\Draft", "x"), ())
