"""Account checks: every login against the lab's hosted Dovecot, with INBOX counts."""

from __future__ import annotations

from dataclasses import dataclass

from imapclient import IMAPClient
from pydantic import SecretStr

from lab import Lab, LabUsers
from onboarding.mailflow import ImapEndpoint, check_accounts, first_working


@dataclass(frozen=True)
class _Login:
    email: str
    password: SecretStr


def test_counts_each_inbox_and_names_a_refused_login(lab: Lab, lab_users: LabUsers) -> None:
    """Results come back in input order: ok with the message count, or the reason."""
    good, other = lab_users.new(), lab_users.new()
    with IMAPClient("127.0.0.1", port=lab.ports.destination_imap, ssl=False) as imap:
        imap.login(good.email, good.destination_password)
        for n in range(2):
            imap.append("INBOX", f"Subject: m{n}\r\n\r\nbody\r\n".encode())
    endpoint = ImapEndpoint("127.0.0.1", lab.ports.destination_imap, "none")
    wrong = "Not-The-Password-7"
    logins = [
        _Login(good.email, SecretStr(good.destination_password)),
        _Login(other.email, SecretStr(wrong)),
    ]
    ok, bad = check_accounts(endpoint, logins)
    assert (ok.email, ok.ok, ok.messages) == (good.email, True, 2)
    assert (bad.email, bad.ok, bad.messages) == (other.email, False, None)
    assert bad.error and "login refused" in bad.error and wrong not in bad.error

    chosen, why = first_working(endpoint, list(reversed(logins)))
    assert chosen is not None and chosen.email == good.email and why is None
    none, why = first_working(endpoint, logins[1:])
    assert none is None and why and "logs in" in why


def test_unreachable_server_is_a_result_not_an_exception(lab: Lab, lab_users: LabUsers) -> None:
    """A closed port gives ok=False with the network reason."""
    user = lab_users.new()
    endpoint = ImapEndpoint("127.0.0.1", 1, "none", timeout=2)
    (result,) = check_accounts(endpoint, [_Login(user.email, SecretStr("x"))])
    assert not result.ok and "connection refused" in (result.error or "")
