"""Logging one IMAP connection in, so that the password can never leave in an exception.

``LOGIN`` (RFC 3501 §6.2.3) is used when the login and the password are printable ASCII;
otherwise ``AUTHENTICATE PLAIN`` (RFC 4616), whose UTF-8 message travels base64-encoded, when
the server offers it, else one sentence saying why and what to do (issue 13). An admin login
with an authorization identity is ``AUTHENTICATE PLAIN`` ``authzid\0admin\0password``; an
OAuth login is ``AUTHENTICATE XOAUTH2`` / ``OAUTHBEARER`` (RFC 7628) with a token from the
endpoint's :class:`~onboarding.mailsync.oauth.TokenSource` (issue 10). Nothing raised
here holds the password: the server's answer is quoted with it masked (also its base64 PLAIN
form), and no foreign error (an encoding error holds the whole value in its ``args``) is
chained. A mix-in of :class:`onboarding.mailsync.connection.Connection`, which provides the
I/O it declares.
"""

from __future__ import annotations

import base64
import time
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from onboarding.mailsync._exceptions import (
    AuthFailed,
    ConnectionLost,
    MailSyncError,
    ProtocolError,
    TLSFailed,
)
from onboarding.mailsync.oauth import sasl_oauthbearer, sasl_xoauth2
from onboarding.mailsync.wire import RawResponse, StatusResponse, parse_status_response, quote
from onboarding.redact import needs_plain, redact, scrub

if TYPE_CHECKING:
    from onboarding.mailsync.models import Endpoint

__all__ = ["Login", "plain_refusal"]


class _Completed(Protocol):
    @property
    def status(self) -> StatusResponse: ...


class Login:
    """The login step of a connection (``_login``), over the connection's own I/O."""

    if TYPE_CHECKING:
        endpoint: Endpoint
        capabilities: frozenset[str]
        token_deadline: float | None

        def error_context(self, **extra: str | None) -> dict[str, str | None]: ...
        def next_tag(self) -> bytes: ...
        def io(self) -> AbstractContextManager[None]: ...
        def write(self, data: bytes) -> None: ...
        def flush(self) -> None: ...
        def close(self) -> None: ...
        def read_response(self) -> RawResponse: ...
        def raise_for_bye(self, status: StatusResponse | None, what: str) -> None: ...
        def _read_tagged(self, tag: bytes) -> _Completed: ...
        def _refresh_capabilities(self) -> None: ...
        def _update_capabilities(self, status: StatusResponse) -> None: ...
        def _refused(self, st: StatusResponse, login: str) -> MailSyncError: ...

    def _login(self) -> None:
        """Log in with LOGIN, or AUTHENTICATE PLAIN when the login or password is not ASCII.

        Nothing raised from here holds the password (issue 13): the server's answer is quoted
        with it masked, and a foreign error (an encoding error holds the whole value in its
        ``args``) never leaves, not even as the ``__cause__``.
        """
        if not self.capabilities:
            self._refresh_capabilities()
        if "LOGINDISABLED" in self.capabilities:
            raise TLSFailed(
                "server refuses a plain-text login on this connection",
                **self.error_context(),
                fix="use tls=starttls or tls=implicit",
            )
        if self.endpoint.token_source is not None:
            self._login_oauth()
            return
        login, password = self.endpoint.login, self.endpoint.password
        plain = _plain_message(login, password, self.endpoint.authzid or "")
        secrets = (password, base64.b64encode(plain).decode() if plain else None)
        failure: MailSyncError | None = None
        try:
            if self.endpoint.authzid is not None or needs_plain(login, password):
                st = self._authenticate_plain(login, password, plain)
            else:
                st = self._send_login(login, password)
            st = replace(st, text=redact(st.text, *secrets))
            if st.ok:
                self._logged_in(st)
                return
            self.raise_for_bye(st, "login refused")
            failure = self._refused(st, login)
        except MailSyncError as exc:
            scrub(exc, *secrets)
            raise
        except Exception as exc:  # an encoding error (or anything unforeseen) quotes the login
            self.close()
            failure = ProtocolError(
                f"the login could not be sent ({type(exc).__name__})", **self.error_context()
            )
        raise scrub(failure, *secrets) from None

    def _logged_in(self, st: StatusResponse) -> None:
        if st.code == "CAPABILITY":
            self._update_capabilities(st)
        else:  # capabilities change after login (RFC 3501 §6.2.3): ask again
            self._refresh_capabilities()

    def _login_oauth(self, *, retry_new: bool = True) -> None:
        """``AUTHENTICATE XOAUTH2``/``OAUTHBEARER`` as the account with a cached or new token.

        A refused token that came from the cache (expired or revoked meanwhile) is dropped
        and ConnectionLost raised: the sync reconnects with a new one, counted as a
        reconnect. A refused token fetched for this very login is asked for once more on the
        same connection (a provider can hand out a token its mail servers do not accept yet),
        then it is an AuthFailed sentence.
        """
        ep = self.endpoint
        source = ep.token_source
        assert source is not None
        user = ep.account
        started = time.time()
        token = source.token(user)
        mech = source.mechanism.upper()
        if source.mechanism == "xoauth2":
            message, abort = sasl_xoauth2(user, token.value), b""
        else:
            message, abort = sasl_oauthbearer(user, token.value, ep.host, ep.port), b"AQ=="
        secrets = (token.value, base64.b64encode(message).decode(), *source.secrets())
        if f"AUTH={mech}" not in self.capabilities:
            raise AuthFailed(
                f"the server does not offer AUTHENTICATE {mech}",
                **self.error_context(),
                fix="check migration.source.auth.mode and the source host",
            )
        try:
            st = self._sasl(mech.encode(), base64.b64encode(message), abort)
            st = replace(st, text=redact(st.text, *secrets))
            if st.ok:
                lifetime = token.expires_at - token.obtained_at
                self.token_deadline = token.expires_at - 0.05 * lifetime
                self._logged_in(st)
                return
            self.raise_for_bye(st, "login refused")
            source.invalidate(user, token)
            if token.obtained_at < started:
                self.close()
                raise ConnectionLost(
                    f"the source refused a cached {mech} token for {user} (expired or "
                    "revoked); reconnecting with a new one",
                    **self.error_context(),
                )
            if retry_new:
                self._login_oauth(retry_new=False)
                return
            raise AuthFailed(
                f"the source refused a new {source.provider} token for {user} from Secret "
                f"block {source.secret_name!r}: {st.status} {st.text}",
                **self.error_context(response=st.text),
                fix="give the app IMAP access to the mailboxes (Microsoft 365: the "
                "IMAP.AccessAsApp permission and a service principal with mailbox access; "
                "Google: domain-wide delegation of https://mail.google.com/)",
            )
        except MailSyncError as exc:
            scrub(exc, *secrets)
            raise

    def _sasl(self, mech: bytes, response: bytes, abort: bytes) -> StatusResponse:
        """``AUTHENTICATE mech`` with ``response`` (initial response when SASL-IR is offered,
        RFC 4959); an error challenge (XOAUTH2's base64 JSON) is answered with ``abort``."""
        tag = self.next_tag()
        initial = "SASL-IR" in self.capabilities
        with self.io():
            self.write(tag + b" AUTHENTICATE " + mech + (b" " + response if initial else b""))
            self.write(b"\r\n")
            self.flush()
        sent = initial
        while True:
            reply = self.read_response()
            if reply.first.startswith(b"+"):
                with self.io():
                    self.write((abort if sent else response) + b"\r\n")
                    self.flush()
                sent = True
                continue
            st = parse_status_response(reply.first)
            if st is not None and (reply.tag == tag or st.status == "BYE"):
                return st
            if reply.tag == tag or st is None:
                raise ProtocolError(
                    f"server did not answer AUTHENTICATE {mech.decode()} as RFC 3501 §6.2.2 says",
                    **self.error_context(),
                )

    def _send_login(self, login: str, password: str) -> StatusResponse:
        """``LOGIN`` with both arguments quoted; only for printable ASCII (:func:`needs_plain`)."""
        tag = self.next_tag()
        with self.io():
            self.write(tag + b" LOGIN " + quote(login.encode()) + b" " + quote(password.encode()))
            self.write(b"\r\n")
            self.flush()
        return self._read_tagged(tag).status

    def _authenticate_plain(
        self, login: str, password: str, message: bytes | None
    ) -> StatusResponse:
        """``AUTHENTICATE PLAIN`` (RFC 4616) with ``message`` (:func:`_plain_message`) base64,
        sent as the initial response when the server offers SASL-IR (RFC 4959)."""
        refused = plain_refusal(login, password, message, self.capabilities)
        if refused is not None:
            message_text, fix = refused
            raise AuthFailed(message_text, **self.error_context(), fix=fix)
        assert message is not None
        return self._sasl(b"PLAIN", base64.b64encode(message), b"*")


def plain_refusal(
    login: str, password: str, message: bytes | None, capabilities: frozenset[str]
) -> tuple[str, str] | None:
    """Why ``AUTHENTICATE PLAIN`` cannot carry this login, as (message, fix); None if it can.

    NUL cannot be carried (RFC 4616 §2), a lone surrogate is no UTF-8 text (``message`` is
    None), and the server must offer ``AUTH=PLAIN`` (RFC 3501 §6.2.2).
    """
    if "\0" in login or "\0" in password:
        return (
            "the login or password contains a NUL character, which no IMAP login can carry "
            "(RFC 4616 §2)",
            "set another password",
        )
    if message is None:
        return (
            "the login or password is not valid Unicode text (it cannot be encoded as UTF-8)",
            "re-save the user list as UTF-8 and set the password again",
        )
    if "AUTH=PLAIN" not in capabilities:
        return (
            "the server does not offer AUTHENTICATE PLAIN (RFC 4616), which a login or "
            "password with non-ASCII characters needs",
            "use an ASCII password for this account, or enable the PLAIN mechanism on the server",
        )
    return None


def _plain_message(login: str, password: str, authzid: str = "") -> bytes | None:
    """The RFC 4616 message ``authzid\\0login\\0password`` in UTF-8; None if one is not text."""
    try:
        return (
            authzid.encode("utf-8")
            + b"\0"
            + login.encode("utf-8")
            + b"\0"
            + password.encode("utf-8")
        )
    except UnicodeEncodeError:
        return None
