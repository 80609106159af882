"""Flags kept by the destination (I4): PERMANENTFLAGS filter, \\Recent never sent."""

from __future__ import annotations

from onboarding.mailsync.flags import FlagFilter


def test_recent_never_sent_and_unknown_system_flag_dropped() -> None:
    f = FlagFilter.from_permanent(["\\Seen", "\\Flagged", "\\*"])
    kept, dropped = f.split(["\\Recent", "\\Seen", "\\Answered", "$Work"])
    assert kept == ("$Work", "\\Seen")
    assert dropped == ("\\Answered",)


def test_keywords_need_backslash_star_or_listing() -> None:
    f = FlagFilter.from_permanent(["\\Seen", "$Known"])
    assert f.split(["$Known", "$Other"]) == (("$Known",), ("$Other",))


def test_refused_keywords_are_dropped_afterwards() -> None:
    f = FlagFilter.from_permanent(["\\Seen", "\\*"]).refuse(["LongKeyword"])
    assert f.split(["longkeyword", "\\Seen"]) == (("\\Seen",), ("longkeyword",))


def test_no_permanentflags_means_all_allowed() -> None:
    f = FlagFilter.from_permanent([])
    assert f.split(["\\Draft", "x"]) == (("\\Draft", "x"), ())
