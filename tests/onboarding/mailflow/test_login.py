"""The one login path: LOGIN for ASCII, AUTHENTICATE PLAIN for UTF-8, no password ever escapes.

Against the lab's hosted Dovecot for the protocol, and with fake clients (the ``connect=``
seam) for what a real server cannot be made to do: echo a password, raise an encoding error.
"""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from dataclasses import dataclass, field

import imapclient.exceptions as imapclient_exc
import pytest
from imapclient import IMAPClient
from pydantic import SecretStr

from lab import Lab, LabUsers
from onboarding.mailflow import (
    ImapEndpoint,
    MailboxFailed,
    check_account,
    check_accounts,
    connect_imap,
)
from onboarding.mailflow._imap import session
from onboarding.mailflow._login import needs_plain

UMLAUT_PASSWORD = "GrünerBaum-2024x"


@dataclass(frozen=True)
class _Login:
    email: str
    password: SecretStr


def _endpoint(lab: Lab) -> ImapEndpoint:
    return ImapEndpoint("127.0.0.1", lab.ports.destination_imap, "none")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything reachable from it by __cause__ and __context__."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    yield from seen


def _assert_never_carries(exc: BaseException, password: str) -> None:
    """Neither the message, repr, args nor any chained exception shows the password."""
    forms = {password, repr(password)[1:-1], repr(password.encode())[2:-1]}
    for e in _chain(exc):
        texts = [str(e), repr(e), *(repr(a) for a in e.args), *(str(a) for a in e.args)]
        texts += [repr(v) for v in vars(e).values()]
        for text in texts:
            assert not any(f in text for f in forms), (type(e).__name__, text)


def test_a_non_ascii_password_logs_in_against_the_lab(lab: Lab, lab_users: LabUsers) -> None:
    """Rule: a UTF-8 password (the validator accepts it) logs in, via AUTHENTICATE PLAIN."""
    user = lab_users.new()
    lab.destination.set_account(user.email, UMLAUT_PASSWORD)
    assert needs_plain(user.email, UMLAUT_PASSWORD)
    (check,) = check_accounts(_endpoint(lab), [_Login(user.email, SecretStr(UMLAUT_PASSWORD))])
    assert (check.ok, check.messages, check.error) == (True, 0, None)


def test_a_wrong_non_ascii_password_fails_without_carrying_it(
    lab: Lab, lab_users: LabUsers
) -> None:
    """Rule: a refused UTF-8 login is a MailboxFailed whose text, args and chain hold no
    form of the password; the never-raising check reports it without the password too."""
    user = lab_users.new()
    lab.destination.set_account(user.email, UMLAUT_PASSWORD)
    wrong = "Falsch-Grün-2024ß"
    with (
        pytest.raises(MailboxFailed) as caught,
        session(_endpoint(lab), user.email, wrong),
    ):
        pass
    assert "login refused" in str(caught.value) and caught.value.address == user.email
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    _assert_never_carries(caught.value, wrong)

    check = check_account(_endpoint(lab), _Login(user.email, SecretStr(wrong)))
    assert not check.ok and check.error and "login refused" in check.error
    assert wrong not in repr(check)


@dataclass
class _FakeClient:
    """An IMAPClient stand-in: records how it was asked to log in, fails as told."""

    plain: bool = True
    fail: BaseException | None = None
    calls: list[str] = field(default_factory=list)

    def login(self, username: str, password: str) -> None:
        self.calls.append("LOGIN")
        if self.fail is not None:
            raise self.fail

    def plain_login(self, identity: str, password: str) -> None:
        self.calls.append("AUTHENTICATE PLAIN")
        if self.fail is not None:
            raise self.fail

    def has_capability(self, capability: str) -> bool:
        return self.plain and capability == "AUTH=PLAIN"

    def folder_status(self, folder: str, what: list[bytes]) -> dict[bytes, int]:
        return {b"MESSAGES": 3}

    def logout(self) -> None:
        self.calls.append("LOGOUT")


def _check_with(client: _FakeClient, email: str, password: str) -> tuple[str | None, bool]:
    endpoint = ImapEndpoint("imap.example", 993)

    def connect(_: ImapEndpoint) -> IMAPClient:
        return client  # type: ignore[return-value]  # duck-typed stand-in

    check = check_account(endpoint, _Login(email, SecretStr(password)), connect=connect)
    return check.error, check.ok


@pytest.mark.parametrize(
    ("email", "password", "method"),
    [
        ("ann@acme.test", "Plain-ascii-2024", "LOGIN"),
        ("ann@acme.test", UMLAUT_PASSWORD, "AUTHENTICATE PLAIN"),
        ("jürgen@bücher.test", "Plain-ascii-2024", "AUTHENTICATE PLAIN"),
        ("ann@acme.test", 'tab\there"', "AUTHENTICATE PLAIN"),
    ],
)
def test_login_method_follows_the_characters(email: str, password: str, method: str) -> None:
    """Rule: LOGIN only for printable ASCII; anything else (UTF-8, controls) is PLAIN."""
    client = _FakeClient()
    error, ok = _check_with(client, email, password)
    assert ok and error is None
    assert client.calls == [method, "LOGOUT"]


@pytest.mark.parametrize(
    "foreign",
    [
        UnicodeEncodeError("ascii", f"LOGIN ann {UMLAUT_PASSWORD}", 12, 13, "not ascii"),
        UnicodeEncodeError("utf-8", f"\0ann\0{UMLAUT_PASSWORD}\udcff", 5, 6, "surrogate"),
        ValueError(f"odd argument {UMLAUT_PASSWORD!r}"),
        imaplib.IMAP4.error(f"AUTHENTICATE failed for {UMLAUT_PASSWORD.encode()!r}"),
        imapclient_exc.LoginError(f"[AUTHENTICATIONFAILED] {UMLAUT_PASSWORD}"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_foreign_error_holding_the_password_is_translated_without_it(
    foreign: Exception,
) -> None:
    """Rule: whatever the client library raises while logging in, the engine's error (and
    its chain) holds no form of the password, and the check reports a failure."""
    client = _FakeClient(fail=foreign)
    with (
        pytest.raises(MailboxFailed) as caught,
        session(
            ImapEndpoint("imap.example", 993),
            "ann@acme.test",
            UMLAUT_PASSWORD,
            connect=lambda _: client,  # type: ignore[arg-type,return-value]
        ),
    ):
        pass
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    _assert_never_carries(caught.value, UMLAUT_PASSWORD)
    error, ok = _check_with(_FakeClient(fail=foreign), "ann@acme.test", UMLAUT_PASSWORD)
    assert not ok and error and UMLAUT_PASSWORD not in error


def test_a_server_without_plain_is_told_not_tried() -> None:
    """Rule: a UTF-8 login on a server without AUTH=PLAIN fails with the fix, sending nothing."""
    client = _FakeClient(plain=False)
    error, ok = _check_with(client, "ann@acme.test", UMLAUT_PASSWORD)
    assert not ok and error and "AUTHENTICATE PLAIN" in error and "ASCII password" in error
    assert client.calls == ["LOGOUT"]


def test_a_nul_in_the_password_is_refused_before_sending() -> None:
    """Rule: RFC 4616 separates its fields by NUL, so a NUL cannot be sent; say so."""
    client = _FakeClient()
    error, ok = _check_with(client, "ann@acme.test", "Grün\0Baum-2024x")
    assert not ok and error and "NUL" in error and "Baum" not in error
    assert client.calls == ["LOGOUT"]


def test_the_default_factory_connects_unauthenticated(lab: Lab) -> None:
    """Rule: connect_imap opens the connection (TLS as decided) and does not log in."""
    client = connect_imap(_endpoint(lab))
    try:
        assert client.has_capability("AUTH=PLAIN")
        assert client._imap.state == "NONAUTH"
    finally:
        client.logout()


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_tls_modes_reach_the_wire(lab: Lab, lab_users: LabUsers, tls: str) -> None:
    """Rule: the endpoint's TLS mode is applied (onboarding.tls): the lab's plaintext IMAP
    fails an implicit-TLS handshake, and offers no STARTTLS to a client that requires it."""
    user = lab_users.new()
    endpoint = ImapEndpoint("127.0.0.1", lab.ports.destination_imap, tls, timeout=5)
    check = check_account(endpoint, _Login(user.email, SecretStr(user.destination_password)))
    assert not check.ok and check.error and check.error.startswith("cannot open IMAP")
