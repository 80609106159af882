"""OAuth2 source logins against the lab identity provider and the source Dovecot (issue 10)."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import time
from collections.abc import Callable

import jwt
import pytest
from support.faultproxy import FaultProxy
from support.mail import connect, digests, fill, snapshot
from support.oauth import google_source, google_tokens, microsoft_tokens, oauth_source

from lab import Lab, LabUser, LabUsers
from lab.idp import load_registry
from onboarding.mailsync import AuthFailed, MailboxPair, StateStore, SyncOptions, sync_mailbox
from onboarding.mailsync.oauth import (
    AccessToken,
    ClientCredentialsTokens,
    MicrosoftTokens,
    sasl_oauthbearer,
    sasl_xoauth2,
)


def _dest_count(lab: Lab, user: LabUser) -> int:
    with connect(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    ) as c:
        return sum(len(v) for v in snapshot(c).values())


def _source_digests(lab: Lab, user: LabUser) -> object:
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        return digests(snapshot(c))


def _fill(lab: Lab, user: LabUser, folders: dict[str, int]) -> None:
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        fill(c, folders)


def test_sasl_messages_match_the_documented_wire_form() -> None:
    """XOAUTH2 is user=..^Aauth=Bearer ..^A^A; OAUTHBEARER has the RFC 7628 GS2 header."""
    assert sasl_xoauth2("a@x.test", "T") == b"user=a@x.test\x01auth=Bearer T\x01\x01"
    assert sasl_oauthbearer("a@x.test", "T", "h", 993) == (
        b"n,a=a@x.test,\x01host=h\x01port=993\x01auth=Bearer T\x01\x01"
    )


def test_a_token_is_replaced_after_80_percent_of_its_lifetime() -> None:
    """Refresh before expiry: usable until 80 % of the lifetime, then a new one is fetched."""
    token = AccessToken("v", obtained_at=100.0, expires_at=200.0)
    assert token.usable(179.9) and not token.usable(180.0)
    assert "v" not in repr(token)


def test_microsoft_migration_with_tokens_expiring_mid_sync_copies_everything_once(
    lab: Lab,
    lab_users: LabUsers,
    store: StateStore,
    pair_for: Callable[..., MailboxPair],
) -> None:
    """Tokens of 3 s expire during each mailbox's sync (the first progress tick outlasts the
    token, as a day-long sync outlasts an hour-long one): the engine reconnects with a new
    token (counted), and every message arrives once with its bytes, flags and INTERNALDATE."""
    users = [lab_users.new() for _ in range(3)]
    for u in users:
        _fill(lab, u, {"INBOX": 30, "Sent Items": 10, "Projects/2024": 10, "Archive": 10})
    app = lab.idp.add_microsoft_app(lab_users.domain)
    tokens = microsoft_tokens(lab, app)
    lab.idp.set_lifetime(3)
    try:
        with FaultProxy(("127.0.0.1", lab.source.imap_port)) as proxy:
            proxy.set_latency(upstream=0.02, downstream=0.02)
            outcomes = []
            for u in users:
                pair = dataclasses.replace(
                    pair_for(u), source=oauth_source(lab, u.email, tokens, port=proxy.port)
                )
                waited: list[float] = []

                def outlast_token(
                    tick: object, mailbox: str = u.email, waited: list[float] = waited
                ) -> None:
                    if not waited:  # once per mailbox: run past its token's expiry
                        expires = tokens.token(mailbox).expires_at
                        waited.append(expires)
                        while time.time() < expires:
                            time.sleep(0.05)

                outcomes.append(
                    sync_mailbox(pair, SyncOptions(max_retries=20), store, progress=outlast_token)
                )
    finally:
        lab.idp.set_lifetime(3600)
    assert all(o.copied == o.in_scope == 60 for o in outcomes)
    assert sum(o.reconnects for o in outcomes) > 0
    for u in users:
        with connect(
            lab.destination.host, lab.destination.imap_port, u.email, u.destination_password
        ) as c:
            assert digests(snapshot(c)) == _source_digests(lab, u)


def test_google_service_account_logs_in_as_each_user(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A service account's per-user token (subject = the user) opens that user's mailbox."""
    _fill(lab, lab_user, {"INBOX": 5})
    pair = dataclasses.replace(pair_for(lab_user), source=google_source(lab, lab_user.email))
    out = sync_mailbox(pair, SyncOptions(), store)
    assert out.copied == 5


@pytest.mark.parametrize(
    ("case", "sentence"),
    [
        ("wrong-secret", "the client secret is wrong (AADSTS7000215"),
        (
            "missing-scope",
            "domain-wide delegation does not grant the scope https://mail.google.com/",
        ),
        ("expired-key", "the key is expired, deleted or disabled"),
        ("wrong-certificate", "thumbprint) (AADSTS700027"),
    ],
)
def test_bad_credentials_fail_with_one_sentence_and_write_nothing(
    lab: Lab,
    lab_user: LabUser,
    store: StateStore,
    pair_for: Callable[..., MailboxPair],
    case: str,
    sentence: str,
) -> None:
    """Wrong client secret, delegation without the scope, expired key: one AuthFailed naming
    the Secret block and the fix, no secret in it, nothing in the destination."""
    _fill(lab, lab_user, {"INBOX": 3})
    if case == "wrong-secret":
        tokens = microsoft_tokens(lab, lab.idp.add_microsoft_app(lab_user.domain), secret="nope")
    elif case == "missing-scope":
        tokens = google_tokens(
            lab, lab_user.domain, scopes=("https://www.googleapis.com/auth/gmail.readonly",)
        )
    elif case == "expired-key":
        tokens = google_tokens(lab, lab_user.domain, key_expires=time.time() - 60)
    else:  # the key and certificate of another app
        other = lab.idp.add_microsoft_app(lab_user.domain, certificate=True).client_secret
        app = lab.idp.add_microsoft_app(lab_user.domain, certificate=True)
        tokens = microsoft_tokens(lab, app, secret=other)
    pair = dataclasses.replace(pair_for(lab_user), source=oauth_source(lab, lab_user.email, tokens))
    with pytest.raises(AuthFailed) as info:
        sync_mailbox(pair, SyncOptions(), store)
    text = str(info.value)
    assert sentence in text and "Secret block 't-" in text and "fix:" in text
    assert not any(s and s in text for s in tokens.secrets())
    assert "Traceback" not in text and info.value.__cause__ is None
    assert _dest_count(lab, lab_user) == 0


def test_master_login_with_an_authorization_identity_copies_the_mailbox(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """AUTHENTICATE PLAIN authzid=user, authcid=admin opens the user's mailbox (RFC 4616)."""
    _fill(lab, lab_user, {"INBOX": 4})
    pair = pair_for(lab_user)
    source = dataclasses.replace(pair.source, login=lab.source.master_user, authzid=lab_user.email)
    assert source.account == lab_user.email
    out = sync_mailbox(dataclasses.replace(pair, source=source), SyncOptions(), store)
    assert out.copied == 4


def _expired_token(lab: Lab, domain: str) -> str:
    """A token signed with the lab provider's key that expired a minute ago."""
    reg = load_registry(lab.state_dir)
    now = int(time.time())
    claims = {"sub": "app", "mailbox_scope": f"*@{domain}", "iat": now - 120, "exp": now - 60}
    key = base64.b64decode(reg["signing_key"])
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": reg["key_id"]})


class _StaleFirst(MicrosoftTokens):
    """Hands out a cached token that has expired (revoked or outlived), then real ones."""

    stale: str = ""

    def fetch(self, user: str) -> AccessToken:
        if self.stale:
            value, self.stale = self.stale, ""
            return AccessToken(value, time.time() - 10, time.time() + 3600)
        return super().fetch(user)


def test_the_source_refuses_an_expired_token_like_the_providers_and_the_sync_reconnects(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """An expired token gets XOAUTH2's base64 JSON 401 challenge, then NO; when the engine's
    cached token is refused it drops it, reconnects (counted) and logs in with a new one."""
    _fill(lab, lab_user, {"INBOX": 4})
    expired = _expired_token(lab, lab_user.domain)
    with socket.create_connection((lab.source.host, lab.source.imap_port), timeout=10) as sock:
        f = sock.makefile("rwb")
        f.readline()
        f.write(
            b"a AUTHENTICATE XOAUTH2 " + base64.b64encode(sasl_xoauth2(lab_user.email, expired))
        )
        f.write(b"\r\n")
        f.flush()
        challenge = f.readline()
        assert challenge.startswith(b"+ ")
        assert json.loads(base64.b64decode(challenge[2:]))["status"] == "401"
        f.write(b"\r\n")
        f.flush()
        assert f.readline().startswith(b"a NO ")
    tokens = microsoft_tokens(lab, lab.idp.add_microsoft_app(lab_user.domain), kind=_StaleFirst)
    tokens.stale = expired
    pair = dataclasses.replace(pair_for(lab_user), source=oauth_source(lab, lab_user.email, tokens))
    out = sync_mailbox(pair, SyncOptions(), store)
    assert out.copied == 4 and out.reconnects == 1


class _RefusedFirst(MicrosoftTokens):
    """Hands out one new token the mail server refuses (not valid there yet), then real ones."""

    refused: str = ""
    fetches: int = 0

    def fetch(self, user: str) -> AccessToken:
        self.fetches += 1
        if self.refused:
            value, self.refused = self.refused, ""
            return AccessToken(value, time.time(), time.time() + 3600)
        return super().fetch(user)


def test_a_new_token_the_source_refuses_is_asked_for_once_more_on_the_same_connection(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A token fetched for this very login and refused is fetched once more before it is an
    AuthFailed: the mailbox copies, with no reconnect counted and two fetches."""
    _fill(lab, lab_user, {"INBOX": 3})
    tokens = microsoft_tokens(lab, lab.idp.add_microsoft_app(lab_user.domain), kind=_RefusedFirst)
    tokens.refused = _expired_token(lab, lab_user.domain)
    pair = dataclasses.replace(pair_for(lab_user), source=oauth_source(lab, lab_user.email, tokens))
    out = sync_mailbox(pair, SyncOptions(), store)
    assert out.copied == 3 and out.reconnects == 0
    assert tokens.fetches == 2


def test_oauthbearer_with_a_client_credentials_token_url_logs_in(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """Another provider's token URL (client credentials) and AUTHENTICATE OAUTHBEARER
    (RFC 7628) copy the mailbox."""
    _fill(lab, lab_user, {"INBOX": 3})
    app = lab.idp.add_microsoft_app(lab_user.domain)
    tokens = ClientCredentialsTokens(
        token_url=f"{lab.idp.authority}/{app.tenant_id}/oauth2/v2.0/token",
        client_id=app.client_id,
        client_secret=app.client_secret,
        secret_name="t-bearer",
        scope="https://outlook.office365.com/.default",
    )
    pair = dataclasses.replace(pair_for(lab_user), source=oauth_source(lab, lab_user.email, tokens))
    assert sync_mailbox(pair, SyncOptions(), store).copied == 3


def test_microsoft365_certificate_credential_logs_in(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A Secret block holding the app's private key and certificate (PEM) is a certificate
    credential: an RS256 client assertion with the x5t thumbprint gets the token."""
    _fill(lab, lab_user, {"INBOX": 2})
    tokens = microsoft_tokens(lab, lab.idp.add_microsoft_app(lab_user.domain, certificate=True))
    pair = dataclasses.replace(pair_for(lab_user), source=oauth_source(lab, lab_user.email, tokens))
    assert sync_mailbox(pair, SyncOptions(), store).copied == 2
