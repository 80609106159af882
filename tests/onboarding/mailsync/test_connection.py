"""The connection layer: throttling answers recognised (reference §4.3), logins classified."""

from __future__ import annotations

import base64
import pickle
import secrets
import traceback

import pytest
from support.imap_script import ImapScript

from lab import Lab, LabUser
from onboarding.mailsync import AuthFailed, Endpoint
from onboarding.mailsync.connection import throttle_seconds
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.wire import parse_status_response


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        (b"* BYE Request is throttled. Suggested Backoff Time: 299961 milliseconds", 299.961),
        (b"A1 NO [UNAVAILABLE] Server busy, try later", 5.0),
        (b"* BYE Session expired, please login again.", 5.0),
        (b"A2 NO [LIMIT] too many connections", 5.0),
        (b"A4 NO Request is throttled. Suggested Backoff Time: 150 milliseconds", 0.15),
        (b"A5 NO [THROTTLED] Account exceeded command or bandwidth limits. (Failure)", 5.0),
        (b"A6 NO Account exceeded command or bandwidth limits. (Failure)", 5.0),
        (b"A3 NO [OVERQUOTA] Quota exceeded", None),
        (b"* BYE Logging out", None),
    ],
)
def test_throttle_seconds(line: bytes, seconds: float | None) -> None:
    """A throttling reply gives its wait: the server's suggested backoff, else 5 s for UNAVAILABLE,
    LIMIT or an expired session; other replies (OVERQUOTA, a plain BYE) are no throttle."""
    st = parse_status_response(line)
    assert st is not None
    assert throttle_seconds(st) == seconds


def test_wrong_password_is_auth_failed_without_the_password(lab: Lab, lab_user: LabUser) -> None:
    """A wrong password raises AuthFailed for that side, and the message does not quote the
    password."""
    ep = Endpoint(lab.source.host, lab.source.imap_port, "none", lab_user.email, "Wr0ng-ßecret")
    with pytest.raises(AuthFailed) as info:
        ImapSession(ep, "source").open()
    assert "Wr0ng" not in str(info.value) and info.value.side == "source"


UMLAUT = "GrünerBaum-2024ß"


def _leaks(exc: BaseException, *secrets: str) -> list[str]:
    """Every place of an exception (and its chain) that holds a form of a secret."""
    forms = {
        f
        for s in secrets
        for f in (s, repr(s)[1:-1], repr(s.encode("utf-8", "backslashreplace"))[2:-1])
    }
    texts = [str(exc), repr(exc.args), repr(vars(exc))]
    texts += traceback.format_exception(exc)
    texts.append(pickle.dumps(exc).decode("latin-1"))
    return [t[:80] for t in texts for f in forms if f in t]


def test_non_ascii_passwords_log_in_with_authenticate_plain(lab: Lab, lab_user: LabUser) -> None:
    """Issue 13: a UTF-8 password (user's own, and a master login's) logs in: AUTHENTICATE
    PLAIN (RFC 4616) when the login is not printable ASCII."""
    password = f"{UMLAUT}-{secrets.token_hex(3)}"
    lab.destination.set_account(lab_user.email, password)
    ep = Endpoint(lab.destination.host, lab.destination.imap_port, "none", lab_user.email, password)
    with ImapSession(ep, "destination").open() as session:
        assert session.capabilities
    master, master_pw = f"ops{secrets.token_hex(3)}", f"Mäster-{secrets.token_hex(4)}€"
    lab.source.add_master_user(master, master_pw)
    src = Endpoint(
        lab.source.host, lab.source.imap_port, "none", f"{lab_user.email}*{master}", master_pw
    )
    with ImapSession(src, "source").open() as session:
        assert session.capabilities
    wrong = Endpoint(src.host, src.port, "none", src.login, master_pw + "ü")
    with pytest.raises(AuthFailed) as info:
        ImapSession(wrong, "source").open()
    assert not _leaks(info.value, master_pw + "ü")


def test_non_ascii_password_without_auth_plain_is_one_sentence_and_sends_nothing() -> None:
    """Rule: a server without AUTH=PLAIN gets no login attempt for a non-ASCII password; the
    error says why and how to fix it, and holds no form of the password."""
    with ImapScript("IMAP4rev1 LITERAL+") as server:
        ep = Endpoint("127.0.0.1", server.port, "none", "ann@x.test", UMLAUT)
        with pytest.raises(AuthFailed, match="does not offer AUTHENTICATE PLAIN") as info:
            ImapSession(ep, "source").open()
    assert "ASCII password" in info.value.fix
    assert not _leaks(info.value, UMLAUT)
    assert not any(b"LOGIN" in line or b"AUTHENTICATE" in line for line in server.received)


@pytest.mark.parametrize(
    ("capabilities", "password"),
    [("IMAP4rev1", "Plain-Ascii-pw1"), ("IMAP4rev1 AUTH=PLAIN", UMLAUT)],
)
def test_a_server_quoting_the_login_back_never_puts_the_password_in_the_error(
    capabilities: str, password: str
) -> None:
    """Secrets: a server that echoes the command line (LOGIN, or the base64 PLAIN response)
    in its refusal: the error quotes its answer with the password masked."""
    answers = dict.fromkeys(("LOGIN", "AUTHENTICATE"), "NO rejected: {line}")
    with ImapScript(capabilities, answers) as server:
        ep = Endpoint("127.0.0.1", server.port, "none", "ann@x.test", password)
        with pytest.raises(AuthFailed, match="rejected") as info:
            ImapSession(ep, "source").open()
    plain = base64.b64encode(f"\0ann@x.test\0{password}".encode()).decode()
    assert not _leaks(info.value, password, plain)
    assert info.value.response is not None and "***" in info.value.response


@pytest.mark.parametrize("password", ["bad\udcffsurrogate", "nul\0inside"])
def test_a_password_no_login_can_carry_is_refused_without_showing_it(password: str) -> None:
    """Rule: a password that is not UTF-8 text (a lone surrogate) or holds NUL is refused
    before anything is sent, and neither the error nor its chain carries it."""
    with ImapScript("IMAP4rev1 AUTH=PLAIN SASL-IR") as server:
        ep = Endpoint("127.0.0.1", server.port, "none", "ann@x.test", password)
        with pytest.raises(AuthFailed) as info:
            ImapSession(ep, "source").open()
    assert not _leaks(info.value, password)
    assert not any(b"AUTHENTICATE" in line for line in server.received)
