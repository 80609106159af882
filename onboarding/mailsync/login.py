"""Logging one IMAP connection in, so that the password can never leave in an exception.

``LOGIN`` (RFC 3501 §6.2.3) is used when the login and the password are printable ASCII;
otherwise ``AUTHENTICATE PLAIN`` (RFC 4616), whose UTF-8 message travels base64-encoded, when
the server offers it, else one sentence saying why and what to do (issue 13). Nothing raised
here holds the password: the server's answer is quoted with it masked (also its base64 PLAIN
form), and no foreign error (an encoding error holds the whole value in its ``args``) is
chained. A mix-in of :class:`onboarding.mailsync.connection.Connection`, which provides the
I/O it declares.
"""

from __future__ import annotations

import base64
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from onboarding.mailsync._exceptions import AuthFailed, MailSyncError, ProtocolError, TLSFailed
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
        login, password = self.endpoint.login, self.endpoint.password
        plain = _plain_message(login, password)
        secrets = (password, base64.b64encode(plain).decode() if plain else None)
        failure: MailSyncError | None = None
        try:
            if needs_plain(login, password):
                st = self._authenticate_plain(login, password, plain)
            else:
                st = self._send_login(login, password)
            st = replace(st, text=redact(st.text, *secrets))
            if st.ok:
                if st.code == "CAPABILITY":
                    self._update_capabilities(st)
                else:  # capabilities change after login (RFC 3501 §6.2.3): ask again
                    self._refresh_capabilities()
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
        response = base64.b64encode(message)
        tag = self.next_tag()
        initial = "SASL-IR" in self.capabilities
        with self.io():
            self.write(tag + b" AUTHENTICATE PLAIN" + (b" " + response if initial else b""))
            self.write(b"\r\n")
            self.flush()
        if not initial:
            challenge = self.read_response()
            if not challenge.first.startswith(b"+"):
                st = parse_status_response(challenge.first)
                if st is not None and challenge.tag == tag:
                    return st
                raise ProtocolError(
                    "server did not answer AUTHENTICATE PLAIN with a continuation",
                    **self.error_context(),
                )
            with self.io():
                self.write(response + b"\r\n")
                self.flush()
        return self._read_tagged(tag).status


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


def _plain_message(login: str, password: str) -> bytes | None:
    """The RFC 4616 message ``\\0login\\0password`` in UTF-8; None if either is not text."""
    try:
        return b"\0" + login.encode("utf-8") + b"\0" + password.encode("utf-8")
    except UnicodeEncodeError:
        return None
