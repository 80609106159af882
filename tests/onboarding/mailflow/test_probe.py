"""The mail-flow probe against the lab gateway (Postfix) and hosted mailboxes (Dovecot)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from imapclient import IMAPClient
from pydantic import SecretStr

from lab import Lab, LabUser, LabUsers
from onboarding.mailflow import (
    ImapEndpoint,
    MailboxFailed,
    SendFailed,
    SmtpEndpoint,
    await_probe,
    await_probes,
    check_alias_flow,
    check_mail_flow,
    find_probe,
    send_probe,
)


def _ends(lab: Lab) -> tuple[SmtpEndpoint, ImapEndpoint]:
    return (
        SmtpEndpoint("127.0.0.1", lab.ports.gateway_smtp),
        ImapEndpoint("127.0.0.1", lab.ports.destination_imap, "none"),
    )


def _inbox_count(lab: Lab, user: LabUser) -> int:
    with IMAPClient("127.0.0.1", port=lab.ports.destination_imap, ssl=False) as imap:
        imap.login(user.email, user.destination_password)
        return int(imap.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"])


def _route_hosted(lab: Lab, domain: str) -> None:
    lab.gateway.set_route(domain, f"lmtp:inet:127.0.0.1:{lab.ports.destination_lmtp}")


def test_probe_is_delivered_found_by_its_tag_and_removed(lab: Lab, lab_user: LabUser) -> None:
    """A routed domain: the probe arrives in the hosted INBOX and is deleted once found."""
    _route_hosted(lab, lab_user.domain)
    smtp, imap = _ends(lab)
    result = check_mail_flow(smtp, imap, lab_user.email, lab_user.destination_password, timeout=15)
    assert result.delivered, result.error
    assert result.tag and result.seconds is not None and result.seconds < 15
    assert _inbox_count(lab, lab_user) == 0


def test_unrouted_domain_is_a_send_failure_naming_the_recipient(
    lab: Lab, lab_users: LabUsers
) -> None:
    """The gateway refuses a domain it does not route: SendFailed, folded into the result."""
    smtp, imap = _ends(lab)
    to = f"nobody@{lab_users.domain}"
    with pytest.raises(SendFailed) as caught:
        send_probe(smtp, to)
    assert caught.value.address == to and "refused the recipient" in str(caught.value)
    result = check_mail_flow(smtp, imap, to, "unused", timeout=1)
    assert not result.delivered and result.error and to in result.error


def test_held_probe_arrives_only_after_release(lab: Lab, lab_user: LabUser) -> None:
    """Sent during a hold, the probe is not delivered; after the release it is."""
    _route_hosted(lab, lab_user.domain)
    lab.gateway.hold(lab_user.domain)
    smtp, imap = _ends(lab)
    try:
        probe = send_probe(smtp, lab_user.email)
        early = await_probe(imap, probe, lab_user.destination_password, timeout=1.5)
        assert not early.delivered and "within" in (early.error or "")
    finally:
        lab.gateway.release(lab_user.domain)
    late = await_probe(imap, probe, lab_user.destination_password, timeout=15)
    assert late.delivered, late.error


def test_a_refused_login_is_reported_without_the_password(lab: Lab, lab_user: LabUser) -> None:
    """A wrong password ends the probe with the server's answer, the password masked."""
    _route_hosted(lab, lab_user.domain)
    smtp, imap = _ends(lab)
    wrong = "Wrong-Secret-123"
    result = check_mail_flow(smtp, imap, lab_user.email, wrong, timeout=2)
    assert not result.delivered and "login refused" in (result.error or "")
    assert wrong not in (result.error or "")
    with pytest.raises(MailboxFailed) as caught:
        find_probe(imap, lab_user.email, wrong, "some-tag", timeout=0)
    assert caught.value.address == lab_user.email and wrong not in str(caught.value)


def test_finding_a_probe_also_removes_probes_an_earlier_run_left(
    lab: Lab, lab_user: LabUser
) -> None:
    """A run that stopped after sending its probe left it in the INBOX; the next probe found
    there takes it away too, and nothing else."""
    _route_hosted(lab, lab_user.domain)
    smtp, imap = _ends(lab)
    with IMAPClient("127.0.0.1", port=lab.ports.destination_imap, ssl=False) as client:
        client.login(lab_user.email, lab_user.destination_password)
        client.append("INBOX", b"Subject: a real message\r\n\r\nkeep me\r\n")
    send_probe(smtp, lab_user.email)  # never looked for: the run "stopped" here
    deadline = time.monotonic() + 15
    while _inbox_count(lab, lab_user) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _inbox_count(lab, lab_user) == 2
    result = check_mail_flow(smtp, imap, lab_user.email, lab_user.destination_password, timeout=15)
    assert result.delivered, result.error
    assert _inbox_count(lab, lab_user) == 1  # only the real message is left


def test_probes_to_one_mailbox_are_awaited_together(lab: Lab, lab_user: LabUser) -> None:
    """Several probes to the same INBOX: each is found (removing one must not take the
    others as leftovers), each has its own delivery time, and the INBOX ends empty."""
    _route_hosted(lab, lab_user.domain)
    smtp, imap = _ends(lab)
    probes = [send_probe(smtp, lab_user.email) for _ in range(3)]
    results = await_probes(imap, lab_user.email, lab_user.destination_password, probes, timeout=15)
    assert [(r.tag, r.delivered) for r in results] == [(p.tag, True) for p in probes]
    assert all(r.seconds is not None and r.seconds >= 0 for r in results)
    assert _inbox_count(lab, lab_user) == 0


@dataclass(frozen=True)
class _Owner:
    email: str
    password: SecretStr
    aliases: tuple[str, ...]


def test_alias_probes_land_in_the_owner_mailbox_and_a_missing_alias_is_named(
    lab: Lab, lab_user: LabUser
) -> None:
    """Mail to an alias the gateway knows reaches the owner's INBOX; an alias it does not
    know is reported by its address, with the mailbox that was searched."""
    _route_hosted(lab, lab_user.domain)
    lab.gateway.set_alias(f"sales@{lab_user.domain}", lab_user.email)
    smtp, imap = _ends(lab)
    owner = _Owner(lab_user.email, SecretStr(lab_user.destination_password), ("sales", "nosuch"))
    sales, nosuch = check_alias_flow(smtp, imap, [owner], timeout=3)
    assert (sales.recipient, sales.delivered) == (f"sales@{lab_user.domain}", True)
    assert (nosuch.recipient, nosuch.delivered) == (f"nosuch@{lab_user.domain}", False)
    assert f"not in {lab_user.email}'s INBOX" in (nosuch.error or "")
    assert lab_user.destination_password not in repr((sales, nosuch))
    assert _inbox_count(lab, lab_user) == 0


def test_missing_aliases_of_several_owners_cost_one_wait_not_one_each(
    lab: Lab, lab_users: LabUsers
) -> None:
    """Probes go out together, so the wait for all owners shares one deadline: two owners
    with an unknown alias each are reported after about one timeout, not two."""
    owners = []
    for _ in range(2):
        user = lab_users.new()
        _route_hosted(lab, user.domain)
        owners.append(_Owner(user.email, SecretStr(user.destination_password), ("nosuch",)))
    smtp, imap = _ends(lab)
    timeout = 4.0
    started = time.monotonic()
    results = check_alias_flow(smtp, imap, owners, timeout=timeout)
    elapsed = time.monotonic() - started
    assert [r.delivered for r in results] == [False, False]
    # Both bounds come from the configured timeout: a missing alias is only declared after
    # the whole wait, and one-after-the-other waits would take two of them.
    assert timeout <= elapsed < len(owners) * timeout, elapsed
