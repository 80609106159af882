"""Pre-flight against the lab: both logins, capabilities, counts and sizes; failures classified."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Callable

import pytest
from support.mail import connect, fill, snapshot
from support.oauth import microsoft_tokens, oauth_source

from lab import Lab, LabUser, LabUsers
from onboarding.mailsync import (
    AuthFailed,
    Endpoint,
    MailboxPair,
    SyncOptions,
    preflight,
    require_app_access,
)


def test_preflight_reports_capabilities_folders_counts_and_sizes(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair]
) -> None:
    """Preflight reports both sides' capabilities, the source's folders with their flags, counts and
    total size, and changes nothing on the source (no message read as \\Seen)."""
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        total = fill(c, {"INBOX": 7, "Sent Items": 3})
        before = snapshot(c)
    report = preflight(pair_for(lab_user), SyncOptions())
    assert report.ok
    for cap in ("UIDPLUS", "CONDSTORE", "SPECIAL-USE", "NAMESPACE", "MULTIAPPEND", "LITERAL+"):
        assert report.source.has(cap) and report.destination.has(cap)
    counts = {f.name: f.messages for f in report.source.folders}
    assert counts["INBOX"] == 7 and counts["Sent Items"] == 3
    assert report.messages == total
    assert report.bytes == sum(m.size for msgs in before.values() for m in msgs)
    sent = next(f for f in report.source.folders if f.name == "Sent Items")
    assert "\\Sent" in sent.flags
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        assert snapshot(c) == before  # nothing read as \Seen, nothing changed


def test_preflight_classifies_auth_and_connect_failures_with_a_fix(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair]
) -> None:
    """A closed port is ConnectFailed and a wrong password AuthFailed with a fix about the password;
    the report is not ok and never quotes the password."""
    good = pair_for(lab_user)
    bad_pw = Endpoint(
        lab.destination.host, lab.destination.imap_port, "none", lab_user.email, "nope"
    )
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    closed = Endpoint("127.0.0.1", closed_port, "none", "x@y", "pw")
    report = preflight(MailboxPair(good.mailbox, closed, bad_pw), SyncOptions())
    assert not report.ok
    assert report.source.error_class == "ConnectFailed"
    assert report.destination.error_class == "AuthFailed"
    assert report.destination.fix and "password" in report.destination.fix
    assert "nope" not in (report.destination.error or "")


def test_preflight_classifies_tls_failure(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair]
) -> None:
    """Implicit TLS against a plain-text IMAP port fails in the handshake: TLSFailed."""
    pair = pair_for(lab_user)
    tls_src = Endpoint(
        pair.source.host, pair.source.port, "implicit", pair.source.login, pair.source.password,
        timeout_seconds=5,
    )  # fmt: skip
    report = preflight(MailboxPair(pair.mailbox, tls_src, pair.destination), SyncOptions())
    assert report.source.error_class == "TLSFailed"
    assert report.destination.ok


def test_preflight_classifies_imap_disabled(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair]
) -> None:
    """A provider that switched IMAP off for the account answers with a reason, not a bad
    password: the operator must enable IMAP, not reset the password."""
    record = lab.source.store.root / "passdb" / lab_user.email.lower()
    data = json.loads(record.read_text())
    data.update(nologin="y", reason="IMAP access is disabled for this account")
    record.write_text(json.dumps(data))
    pair = pair_for(lab_user)
    own = Endpoint(
        pair.source.host, pair.source.port, "none", lab_user.email, lab_user.source_password
    )
    report = preflight(MailboxPair(pair.mailbox, own, pair.destination), SyncOptions())
    assert report.source.error_class == "IMAPDisabled"
    assert report.source.fix and "enable IMAP" in report.source.fix


def test_preflight_reads_the_destination_quota(
    lab: Lab, lab_users: LabUsers, pair_for: Callable[..., MailboxPair]
) -> None:
    """ "Will it fit?" is answered before any data moves (QUOTA, RFC 9208)."""
    user = lab_users.new(quota_bytes=10_240)
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        fill(c, {"INBOX": 20})
    report = preflight(pair_for(user), SyncOptions())
    assert report.destination.quota_limit_bytes == 10_240
    assert report.destination.quota_used_bytes == 0
    assert report.bytes > 10_240 and report.fits is False
    roomy = preflight(pair_for(lab_users.new(quota_bytes=50_000_000)), SyncOptions())
    assert roomy.fits is True


def test_an_app_the_server_refuses_for_two_mailboxes_fails_once(
    lab: Lab, lab_users: LabUsers
) -> None:
    """A token the provider grants but the mail server refuses for the first two mailboxes
    (an app of another tenant: no access to these mailboxes) is one AuthFailed naming the
    Secret block and the fix, and no third mailbox is tried; refused for the first but not
    the second, it is that mailbox's own problem and the check passes; a server that does not
    answer is left to the mailboxes."""
    users = (lab_users.new(), lab_users.new())
    other_tenant = microsoft_tokens(lab, lab.idp.add_microsoft_app(f"other-{lab_users.domain}"))
    refused = [oauth_source(lab, u.email, other_tenant) for u in users]
    with socket.socket() as s:  # a port nobody listens on: tried, it would end the check
        s.bind(("127.0.0.1", 0))
        closed = dataclasses.replace(refused[0], port=s.getsockname()[1])
    with pytest.raises(AuthFailed) as info:
        require_app_access([*refused, closed])
    text = str(info.value)
    assert "refused a new" in text and "Secret block 't-m365-client-secret'" in text
    assert "IMAP.AccessAsApp" in text and users[0].email in text
    own = microsoft_tokens(lab, lab.idp.add_microsoft_app(lab_users.domain))
    require_app_access([refused[0], oauth_source(lab, users[1].email, own)])
    require_app_access([closed, refused[1]])
    require_app_access([])
