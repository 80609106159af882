"""Notice templates (Jinja2): every language says the same things, and never a password."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support.public_api import exported_names

import onboarding.notices as pkg
from onboarding.notices import (
    ClientSettings,
    NoticeContext,
    SupportContacts,
    languages,
    render_notice,
)

CONTEXT = NoticeContext(
    customer="Acme Corp",
    email="ann@acme.test",
    aliases=("sales@acme.test", "info@acme.test"),
    settings=ClientSettings("imap.mailroute.test", "smtp.mailroute.test"),
    support=SupportContacts("support@mailroute.net", "sales@mailroute.net"),
    ready_at=datetime(2026, 11, 27, 22, 0, tzinfo=UTC),
    migrated=True,
)


def test_public_surface_is_all() -> None:
    """The notices package exports exactly what its __all__ names."""
    assert exported_names(pkg) == set(pkg.__all__)


def test_english_and_german_are_supported() -> None:
    """A language is a folder with every template; English and German are complete."""
    assert languages() == ("de", "en")


@pytest.mark.parametrize("language", ["en", "de"])
def test_before_cutover_says_when_what_changes_what_to_do_and_who_helps(language: str) -> None:
    """The notice before the cutover names the time, the address and aliases, the new IMAP
    and SMTP settings (public hosts, 993 and 587 STARTTLS, the address as user name), and
    both support contacts; the password is only said to come from the administrator."""
    notice = render_notice("before_cutover", language, CONTEXT)
    when = "2026-11-27 22:00 UTC" if language == "en" else "27.11.2026, 22:00 Uhr UTC"
    assert when in notice.subject and when in notice.body
    body = notice.body
    for needle in (
        "ann@acme.test",
        "sales@acme.test, info@acme.test",
        "imap.mailroute.test, port 993" if language == "en" else "imap.mailroute.test, Port 993",
        "smtp.mailroute.test, port 587" if language == "en" else "smtp.mailroute.test, Port 587",
        "STARTTLS",
        "support@mailroute.net",
        "sales@mailroute.net",
        "Acme Corp",
    ):
        assert needle in body, (needle, body)
    assert "\n" not in notice.subject


@pytest.mark.parametrize("language", ["en", "de"])
def test_welcome_has_settings_aliases_help_and_what_was_not_moved(language: str) -> None:
    """The welcome names the settings, the user's other addresses, where to get help, and that
    calendars, contacts and filters were not moved."""
    body = render_notice("welcome", language, CONTEXT).body
    assert "sales@acme.test, info@acme.test" in body and "support@mailroute.net" in body
    assert ("Calendars" if language == "en" else "Kalender") in body
    without = render_notice(
        "welcome", language, NoticeContext(**{**CONTEXT.__dict__, "aliases": ()})
    )
    assert "sales@acme.test" not in without.body


def test_the_customers_window_replaces_the_computed_time() -> None:
    """``cutover_window`` (the customer's own words) is used as the time in subject and body."""
    ctx = NoticeContext(**{**CONTEXT.__dict__, "window": "Samstag, 27. November, 22-23 Uhr"})
    notice = render_notice("before_cutover", "de", ctx)
    assert "Samstag, 27. November, 22-23 Uhr" in notice.subject
    assert "2026" not in notice.subject


def test_unknown_language_or_kind_is_a_caller_mistake() -> None:
    """An unknown language or notice kind is a ValueError naming the ones that exist."""
    with pytest.raises(ValueError, match="de, en"):
        render_notice("welcome", "fr", CONTEXT)
    with pytest.raises(ValueError, match="before_cutover, welcome"):
        render_notice("goodbye", "en", CONTEXT)  # type: ignore[arg-type]


def test_the_context_has_no_place_for_a_password() -> None:
    """Rule: no notice can carry a password because its context has no such field."""
    assert not any("password" in f for f in NoticeContext.__dataclass_fields__)
