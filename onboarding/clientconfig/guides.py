"""The email-client guide for a customer's users, and one settings sheet per user.

The runbook's "distribute email client configuration guides": the hosted settings (hosts, ports,
TLS, the username form), short steps for Outlook (Windows, Mac, new Outlook), Apple Mail and
iPhone (with the ``.mobileconfig`` profile), Thunderbird (autoconfig), Android / the Gmail app
and webmail, then troubleshooting for the runbook's common issues. A user's sheet fits on one
page: their address, aliases and settings. No document contains a password: users get theirs
separately, and the guides say so.

Ports follow RFC 8314 (implicit TLS first): IMAP 993, submission 465, 587 with STARTTLS as
the fallback; the same the autoconfig, autodiscover and profile files give
(:mod:`onboarding.clientconfig.files`).
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.clientconfig.files import IMAPS_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT
from onboarding.clientconfig.records import ClientHosts
from onboarding.documents import Document, Section, SupportContacts, Table

__all__ = [
    "GUIDE_SECTIONS",
    "SHEET_SECTIONS",
    "GuideInputs",
    "GuideUser",
    "guide_document",
    "profile_name",
    "user_sheet",
]

# The section ids of the guide and of a user sheet (HTML anchors; the screenshot test checks them).
GUIDE_SECTIONS = (
    "settings",
    "outlook",
    "apple",
    "thunderbird",
    "android",
    "webmail",
    "troubleshooting",
)
SHEET_SECTIONS = ("address", "settings", "password", "devices")


@dataclass(frozen=True)
class GuideUser:
    """One mailbox as the guides show it: its address and its aliases (full addresses)."""

    email: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuideInputs:
    """Everything the guides say, as plain values (``tasks/adapters.guide_inputs`` builds it)."""

    customer: str
    domains: tuple[str, ...]
    hosts: ClientHosts
    webmail_url: str
    support: SupportContacts
    users: tuple[GuideUser, ...]
    spf_include: str
    min_password_length: int = 10
    min_character_classes: int = 3

    @property
    def imap_host(self) -> str:
        return self.hosts.imap_host.rstrip(".")

    @property
    def smtp_host(self) -> str:
        return self.hosts.submission_host.rstrip(".")

    @property
    def example_address(self) -> str:
        return self.users[0].email if self.users else f"name@{self.domains[0]}"


def profile_name(email: str) -> str:
    """The Apple profile's file name for ``email`` (``alice@acme.test.mobileconfig``)."""
    return f"{email}.mobileconfig"


def _settings_table(g: GuideInputs, username: str) -> Table:
    return Table(
        ("setting", "value"),
        (
            ("Username", username),
            ("Password", "the password you were given separately (never sent in this guide)"),
            (
                "Incoming mail (IMAP)",
                f"`{g.imap_host}`, port {IMAPS_PORT}, security SSL/TLS, "
                "authentication normal password",
            ),
            (
                "Outgoing mail (SMTP)",
                f"`{g.smtp_host}`, port {SUBMISSIONS_PORT}, security SSL/TLS, "
                "authentication normal password (same username and password)",
            ),
            (
                "Outgoing mail, if port 465 is blocked",
                f"`{g.smtp_host}`, port {SUBMISSION_PORT}, security STARTTLS",
            ),
            ("Webmail", f"`{g.webmail_url}`"),
        ),
    )


def _manual(g: GuideInputs) -> str:
    return (
        f"incoming `{g.imap_host}` port {IMAPS_PORT} SSL/TLS, outgoing `{g.smtp_host}` port "
        f"{SUBMISSIONS_PORT} SSL/TLS, username your full email address"
    )


def _outlook(g: GuideInputs) -> Section:
    manual = _manual(g)
    return Section(
        "Outlook",
        "outlook",
        paragraphs=(
            "Outlook finds the settings by itself (autodiscover) once your domain's DNS points "
            "to us. If it still offers your old provider, remove the old account first.",
        ),
        subsections=(
            Section(
                "Outlook for Windows (classic)",
                "outlook-windows",
                steps=(
                    "File › Add Account; type your email address.",
                    "Advanced options › tick “Let me set up my account manually” › Connect.",
                    "Choose IMAP; enter " + manual + ".",
                    "Type your password › Connect › Done.",
                ),
            ),
            Section(
                "Outlook for Mac",
                "outlook-mac",
                steps=(
                    "Outlook › Settings › Accounts › + › New Account; type your email address.",
                    "If asked for the account type, choose IMAP; enter " + manual + ".",
                    "Type your password › Add Account.",
                ),
            ),
            Section(
                "New Outlook (Windows) and Outlook on the web",
                "outlook-new",
                steps=(
                    "Settings › Accounts › Email accounts › Add account; type your address.",
                    "Choose IMAP › Show more; enter " + manual + ".",
                    "Type your password › Continue.",
                ),
            ),
        ),
    )


def _apple(g: GuideInputs) -> Section:
    return Section(
        "Apple Mail (Mac) and iPhone / iPad",
        "apple",
        paragraphs=(
            "Your user sheet comes with a configuration profile (`<your address>.mobileconfig`) "
            "that sets up the account for you; it holds no password, you type it once.",
        ),
        subsections=(
            Section(
                "iPhone and iPad",
                "apple-ios",
                steps=(
                    "Open the profile on the device (from the email or AirDrop) › Allow.",
                    "Settings › Profile Downloaded › Install; enter your device passcode.",
                    "Type your mail password when asked › Done.",
                ),
                after=(
                    "Without the profile: Settings › Apps › Mail › Mail Accounts › Add Account › "
                    "Other › Add Mail Account, choose IMAP and enter " + _manual(g) + ".",
                ),
            ),
            Section(
                "Apple Mail on a Mac",
                "apple-mac",
                steps=(
                    "Double-click the profile › System Settings › Privacy & Security › "
                    "Profiles › Install.",
                    "Type your mail password when asked; open Mail.",
                ),
                after=(
                    "Without the profile: Mail › Add Account › Other Mail Account, choose IMAP "
                    "and enter " + _manual(g) + ".",
                ),
            ),
        ),
    )


def _thunderbird(g: GuideInputs) -> Section:
    return Section(
        "Thunderbird",
        "thunderbird",
        steps=(
            "☰ › Account Settings › Account Actions › Add Mail Account.",
            "Type your name, email address and password › Continue.",
            f"Thunderbird finds the settings (autoconfig): check it shows IMAP `{g.imap_host}` "
            f"port {IMAPS_PORT} SSL/TLS and SMTP `{g.smtp_host}` port {SUBMISSIONS_PORT} "
            "SSL/TLS › Done.",
        ),
        after=("If it finds nothing, choose “Configure manually” and enter " + _manual(g) + ".",),
    )


def _android(g: GuideInputs) -> Section:
    return Section(
        "Android (Gmail app)",
        "android",
        steps=(
            "Gmail › your profile picture › Add another account › Other.",
            "Type your email address › Manual setup › Personal (IMAP); type your password.",
            f"Incoming server: `{g.imap_host}`, port {IMAPS_PORT}, security SSL/TLS.",
            f"Outgoing server: `{g.smtp_host}`, port {SUBMISSIONS_PORT}, security SSL/TLS, "
            "require sign-in › Next.",
        ),
    )


def _webmail(g: GuideInputs) -> Section:
    return Section(
        "Webmail",
        "webmail",
        steps=(
            f"Open `{g.webmail_url}` in any browser.",
            "Sign in with your full email address and your password.",
        ),
    )


def _troubleshooting(g: GuideInputs) -> Section:
    domains = ", ".join(f"`{d}`" for d in g.domains)
    classes = g.min_character_classes
    return Section(
        "Troubleshooting",
        "troubleshooting",
        subsections=(
            Section(
                "DNS propagation delays",
                "dns-propagation",
                paragraphs=(
                    f"After {domains} point to us, some networks keep the old records for a "
                    "while (their cache time, often an hour or more). Until then automatic "
                    "set-up may fail or find your old provider: use the manual settings above, "
                    "they work at once. No mail is lost in that window; it reaches your new "
                    "mailbox.",
                ),
            ),
            Section(
                "Client configuration problems",
                "client-problems",
                bullets=(
                    "“Cannot connect” or “server not found”: check the host names above (not "
                    "your old provider's), the ports and SSL/TLS.",
                    "“Login failed”: the username is your full email address, not only the "
                    "part before @.",
                    "Outlook keeps using the old provider: remove the old account (or create a "
                    "new Outlook profile) and add it again.",
                    "Sending fails while receiving works: turn on “my outgoing server requires "
                    f"authentication”, or try port {SUBMISSION_PORT} with STARTTLS.",
                ),
            ),
            Section(
                "Password complexity",
                "password",
                paragraphs=(
                    f"Passwords need at least {g.min_password_length} characters and {classes} "
                    "of the 4 kinds (lower case, upper case, digits, symbols); not the part of "
                    "your address before @ and not a common password. To change or reset "
                    "yours, write to technical support.",
                ),
            ),
            Section(
                "SPF conflicts (sent mail rejected or marked as spam)",
                "spf",
                paragraphs=(
                    "Each domain may have only one SPF record, and it must allow our servers "
                    f"(`include:{g.spf_include}`) and every other service that sends as your "
                    "domain (newsletters, invoicing, …). Two SPF records, or one without us, make "
                    "receivers reject or flag your mail: ask whoever runs your DNS to merge "
                    "them into one, or write to technical support.",
                ),
            ),
        ),
    )


def guide_document(g: GuideInputs) -> Document:
    """The customer's client guide: settings, one section per client, troubleshooting."""
    return Document(
        title=f"Email set-up guide for {g.customer}",
        subtitle="Your mail is now hosted by MailRoute for "
        + ", ".join(f"`{d}`" for d in g.domains)
        + ". Set up each device once with the settings below.",
        sections=(
            Section(
                "Your settings",
                "settings",
                paragraphs=("These work on every device and in every mail program.",),
                table=_settings_table(
                    g, f"your full email address (for example `{g.example_address}`)"
                ),
            ),
            _outlook(g),
            _apple(g),
            _thunderbird(g),
            _android(g),
            _webmail(g),
            _troubleshooting(g),
        ),
        support=g.support,
    )


def user_sheet(g: GuideInputs, user: GuideUser) -> Document:
    """One user's one-page sheet: address, aliases, settings; never a password."""
    aliases = ", ".join(f"`{a}`" for a in user.aliases) if user.aliases else "none"
    return Document(
        title=f"Mail settings for {user.email}",
        subtitle=f"{g.customer}: your mailbox is hosted by MailRoute.",
        sections=(
            Section(
                "Your address",
                "address",
                table=Table(
                    ("", ""),
                    (
                        ("Email address", f"`{user.email}`"),
                        ("Also delivered to you (aliases)", aliases),
                    ),
                ),
            ),
            Section(
                "Settings",
                "settings",
                table=_settings_table(g, f"`{user.email}` (your full email address)"),
            ),
            Section(
                "Your password",
                "password",
                paragraphs=(
                    "Use the password you were given separately; this sheet never contains it. "
                    "Forgotten it? Write to technical support.",
                ),
            ),
            Section(
                "Your devices",
                "devices",
                bullets=(
                    f"iPhone, iPad, Mac: open `{profile_name(user.email)}` (sent with this "
                    "sheet) and type your password once.",
                    "Outlook, Thunderbird, Android, webmail: see the set-up guide; most find "
                    "the settings from your address alone.",
                ),
            ),
        ),
        support=g.support,
    )
