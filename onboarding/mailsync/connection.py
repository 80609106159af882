"""One IMAP connection: connect (plain, implicit TLS, STARTTLS), log in, send and read.

The transport half of the engine's IMAP client (commands are in :mod:`.imap`, the login
step, LOGIN or AUTHENTICATE PLAIN, in :mod:`.login`). Login failures are classified here
(auth, TLS, IMAP disabled, throttled), throttling answers are recognised
(:func:`throttle_seconds`), and every socket/ssl error is translated to the engine's tree at
this boundary. Parsing lives in the pure :mod:`onboarding.mailsync.wire`.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Literal, Self, cast

from onboarding.mailsync._exceptions import (
    AuthFailed,
    ConnectFailed,
    ConnectionLost,
    IMAPDisabled,
    MailSyncError,
    ProtocolError,
    ResponseTooLarge,
    Throttled,
    TLSFailed,
    translate,
)
from onboarding.mailsync.literal import DEFAULT_MAX_LITERAL, LiteralTooLarge, read_literal
from onboarding.mailsync.login import Login
from onboarding.mailsync.models import Endpoint
from onboarding.mailsync.wire import (
    RawResponse,
    StatusResponse,
    Token,
    WireError,
    literal_size,
    parse_status_response,
    parse_tokens,
)
from onboarding.tls import TLSDecision, decide_tls

__all__ = [
    "Connection",
    "Side",
    "Tagged",
    "login_refused",
    "parse_response",
    "throttle_seconds",
    "token_text",
]


Side = Literal["source", "destination"]

_BACKOFF_RE = re.compile(r"Backoff Time:?\s*(\d+)\s*(milli)?", re.IGNORECASE)
_DISABLED_RE = re.compile(
    r"not enabled for IMAP|IMAP (?:access )?(?:is )?disabled|authenticated but not connected|"
    r"IMAP use|web login required",
    re.IGNORECASE,
)
_THROTTLE_CODES = frozenset({"UNAVAILABLE", "LIMIT", "INUSE", "THROTTLED"})
# Gmail: "[THROTTLED]" or "Account exceeded command or bandwidth limits" (issue 10).
_THROTTLE_TEXT = re.compile(r"throttl|exceeded command or bandwidth limits", re.IGNORECASE)
DEFAULT_BACKOFF_SECONDS = 5.0


def throttle_seconds(status: StatusResponse) -> float | None:
    """Return the backoff a throttling answer asks for, or None if it is not throttling.

    Office 365 says ``Request is throttled. Suggested Backoff Time: 299961 milliseconds``;
    Gmail answers ``[THROTTLED]`` or ``Account exceeded command or bandwidth limits`` and
    closes with ``BYE Session expired``/``[UNAVAILABLE]``.
    """
    m = _BACKOFF_RE.search(status.text)
    if m:
        value = float(m.group(1))
        return value / 1000.0 if m.group(2) else value
    if status.code in _THROTTLE_CODES or _THROTTLE_TEXT.search(status.text):
        return DEFAULT_BACKOFF_SECONDS
    if status.status == "BYE" and "session expired" in status.text.lower():
        return DEFAULT_BACKOFF_SECONDS
    return None


def login_refused(st: StatusResponse, login: str, ctx: dict[str, str | None]) -> MailSyncError:
    """The error for a refused LOGIN: IMAP switched off, throttled, or refused credentials."""
    if _DISABLED_RE.search(st.text):
        return IMAPDisabled(f"login refused: {st.text}", **ctx)
    if st.code in _THROTTLE_CODES:
        return Throttled(
            f"login throttled: {st.text}",
            backoff_seconds=throttle_seconds(st) or DEFAULT_BACKOFF_SECONDS,
            **ctx,
        )
    return AuthFailed(f"login refused for {login}: {st.status} {st.text}", **ctx)


@dataclass(frozen=True)
class Tagged:
    """A command's untagged responses and its tagged completion."""

    untagged: list[RawResponse]
    status: StatusResponse


class Connection(Login):
    """One logged-in IMAP connection (source or destination side), without the commands.

    ``max_literal`` caps what one literal may claim (:mod:`.literal`; big ones are spooled).
    """

    def __init__(self, endpoint: Endpoint, side: Side) -> None:
        self.endpoint = endpoint
        self.side = side
        self.capabilities: frozenset[str] = frozenset()
        self._sock: socket.socket | None = None
        self._rfile: BinaryIO | None = None
        self._wfile: BinaryIO | None = None
        self._tag = 0
        self.selected: str | None = None
        self._tls: TLSDecision | None = None
        self.max_literal = DEFAULT_MAX_LITERAL
        self.token_deadline: float | None = None  # an OAuth login's token ends the session

    # -- connection -------------------------------------------------------------------------

    def error_context(self, **extra: str | None) -> dict[str, str | None]:
        """The keyword context of this side's errors: ``side``, ``host`` and ``extra``."""
        return {"side": self.side, "host": f"{self.endpoint.host}:{self.endpoint.port}", **extra}

    def _connect(self) -> socket.socket:
        """Open the TCP (and implicit TLS) connection; the seam tests and proxies override."""
        ep = self.endpoint
        try:
            sock = socket.create_connection((ep.host, ep.port), timeout=ep.timeout_seconds)
        except OSError as exc:
            raise ConnectFailed(f"cannot connect: {exc}", **self.error_context()) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls.implicit:
            sock = self._wrap_tls(sock)
        return sock

    @property
    def tls(self) -> TLSDecision:
        """How this connection is secured (:func:`onboarding.tls.decide_tls`, decided once)."""
        if self._tls is None:
            ep = self.endpoint
            try:
                self._tls = decide_tls(
                    ep.tls,
                    ep.host,
                    verify=ep.verify_tls,
                    ca_file=ep.ca_file,
                    allow_plaintext=ep.allow_plaintext,
                )
            except ValueError as exc:
                raise TLSFailed(
                    str(exc), **self.error_context(), fix="use tls=implicit or tls=starttls"
                ) from None
        return self._tls

    def _wrap_tls(self, sock: socket.socket) -> socket.socket:
        try:
            return self.tls.wrap(sock)
        except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
            sock.close()
            raise TLSFailed(f"TLS handshake failed: {exc}", **self.error_context()) from exc

    def _attach(self, sock: socket.socket) -> None:
        self._sock = sock
        self._rfile = cast(BinaryIO, sock.makefile("rb", buffering=256 * 1024))
        self._wfile = cast(BinaryIO, sock.makefile("wb", buffering=256 * 1024))

    def open(self) -> Self:
        """Connect, read the greeting, upgrade with STARTTLS if asked, and log in."""
        self._attach(self._connect())
        try:
            greeting = self.read_response()
            status = parse_status_response(greeting.first)
            if status is None or status.status == "BYE":
                text = status.text if status else greeting.first.decode("utf-8", "replace")
                self.raise_for_bye(status, "server refused the connection")
                raise ConnectFailed(f"bad greeting: {text}", **self.error_context(response=text))
            self._update_capabilities(status)
            if self.tls.starttls:
                self._starttls()
            if status.status != "PREAUTH":
                self._login()
            if not self.capabilities:
                self._refresh_capabilities()
        except BaseException:
            self.close()
            raise
        return self

    def _starttls(self) -> None:
        if not self.capabilities:
            self._refresh_capabilities()
        if "STARTTLS" not in self.capabilities:
            raise TLSFailed(
                "server does not offer STARTTLS",
                **self.error_context(),
                fix="use tls=implicit (port 993) or tls=none on a trusted network",
            )
        self.command(b"STARTTLS")
        assert self._sock is not None
        self._attach(self._wrap_tls(self._sock))
        self.capabilities = frozenset()
        self._refresh_capabilities()

    def _refused(self, st: StatusResponse, login: str) -> MailSyncError:
        return login_refused(st, login, self.error_context(response=st.text))

    def _refresh_capabilities(self) -> None:
        result = self.command(b"CAPABILITY")
        for resp in result.untagged:
            if resp.first[:13].upper() == b"* CAPABILITY ":
                self.capabilities = frozenset(
                    c.upper() for c in resp.first[13:].decode("ascii", "replace").split()
                )

    def _update_capabilities(self, status: StatusResponse) -> None:
        if status.code == "CAPABILITY":
            self.capabilities = frozenset(
                t.decode("ascii", "replace").upper()
                for t in status.code_args
                if isinstance(t, bytes)
            )

    def close(self) -> None:
        """Close without LOGOUT (safe to call twice)."""
        for f in (self._rfile, self._wfile):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = self._rfile = self._wfile = None

    def logout(self) -> None:
        """Say LOGOUT and close; errors on the way out are ignored."""
        try:
            if self._sock is not None:
                # Not waiting for the answer saves a round trip; the server cleans up anyway.
                with self.io():
                    self.write(self.next_tag() + b" LOGOUT\r\n")
                    self.flush()
        except MailSyncError:
            pass
        finally:
            self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.logout()

    # -- low-level I/O ----------------------------------------------------------------------
    # Public for the pipelined commands (:mod:`.append`) that write ahead of the answers.

    def io(self) -> _Translating:
        """A context that turns socket/ssl errors of the block into the engine's tree."""
        return _Translating(self)

    def next_tag(self) -> bytes:
        """The next command tag (``M1``, ``M2``, ...).

        Past the login token's deadline the session is closed and ConnectionLost raised:
        the providers end a session when its token expires (Exchange Online: ``BYE
        Session invalidated - AccessTokenExpired``), so the engine reconnects first, with a
        new token, and the reconnect is counted like any other.
        """
        if self.token_deadline is not None and time.time() >= self.token_deadline:
            self.close()
            raise ConnectionLost(
                "the login's OAuth token is about to expire; reconnecting with a new one",
                **self.error_context(),
            )
        self._tag += 1
        return b"M%d" % self._tag

    def write(self, data: bytes) -> None:
        """Buffer ``data`` for the server (inside :meth:`io`); raises if the session is closed."""
        if self._wfile is None:
            raise ConnectionLost("connection is closed", **self.error_context())
        self._wfile.write(data)

    def flush(self) -> None:
        """Send what is buffered (inside :meth:`io`)."""
        if self._wfile is not None:
            self._wfile.flush()

    def flush_io(self) -> None:
        """Send what is buffered, translating socket errors."""
        with self.io():
            self.flush()

    def read_response(self) -> RawResponse:
        """Read one complete response (all its lines and literals)."""
        rfile = self._rfile
        if rfile is None:
            raise ConnectionLost("connection is closed", **self.error_context())
        resp = RawResponse()
        with self.io():
            while True:
                line = rfile.readline()
                if not line.endswith(b"\n"):
                    raise ConnectionLost("server closed the connection", **self.error_context())
                line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                resp.lines.append(line)
                n = literal_size(line)
                if n is None:
                    return resp
                try:
                    data = read_literal(rfile, n, cap=self.max_literal, line=line)
                except LiteralTooLarge as exc:
                    self.close()  # the stream cannot be resynchronised
                    raise ResponseTooLarge(
                        f"server announced a literal of {n:,} bytes, over the cap of "
                        f"{exc.cap:,} (connection closed)",
                        claimed=n, cap=exc.cap, line=line[:200], **self.error_context(),
                    ) from exc  # fmt: skip
                if data is None:
                    raise ConnectionLost(
                        "server closed the connection mid-literal", **self.error_context()
                    )
                resp.literals.append(data)

    def raise_for_bye(self, status: StatusResponse | None, what: str) -> None:
        """Close and raise Throttled/ConnectionLost if ``status`` is a BYE; else do nothing."""
        if status is None or status.status != "BYE":
            return
        wait = throttle_seconds(status)
        ctx = self.error_context(response=status.text)
        self.close()
        if wait is not None:
            raise Throttled(f"{what}: BYE {status.text}", backoff_seconds=wait, **ctx)
        raise ConnectionLost(f"{what}: BYE {status.text}", **ctx)

    def _read_tagged(
        self, tag: bytes, on_untagged: Callable[[RawResponse], None] | None = None
    ) -> Tagged:
        untagged: list[RawResponse] = []
        while True:
            resp = self.read_response()
            first = resp.first
            if first.startswith(b"* BYE") or first.startswith(b"* bye"):
                self.raise_for_bye(parse_status_response(first), "server closed the session")
            if resp.tag == tag:
                st = parse_status_response(first)
                if st is None:
                    raise ProtocolError(
                        f"unparsable completion {first[:100]!r}", **self.error_context()
                    )
                return Tagged(untagged, st)
            if on_untagged is not None:
                on_untagged(resp)
            else:
                untagged.append(resp)

    def command(self, *parts: bytes, check: bool = True) -> Tagged:
        """Send one command and wait for its completion; NO/BAD raise unless ``check=False``."""
        tag = self.next_tag()
        with self.io():
            self.write(b" ".join((tag, *parts)) + b"\r\n")
            self.flush()
        result = self._read_tagged(tag)
        if check:
            self.check(result.status, parts[0].decode("ascii", "replace"))
        return result

    def check(self, st: StatusResponse, what: str) -> None:
        """Raise the engine error for a failed completion (throttling becomes Throttled)."""
        if st.ok:
            return
        wait = throttle_seconds(st)
        if wait is not None:
            raise Throttled(
                f"{what} throttled: {st.text}",
                backoff_seconds=wait,
                **self.error_context(response=st.text),
            )
        raise ProtocolError(
            f"{what} failed: {st.status} {st.text}", **self.error_context(response=st.text)
        )


class _Translating:
    """Context manager turning socket/ssl errors into the engine tree for one session."""

    def __init__(self, session: Connection) -> None:
        self.session = session

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None or isinstance(exc, MailSyncError):
            return
        if isinstance(exc, OSError | EOFError | ValueError):
            self.session.close()
            raise translate(exc, **self.session.error_context()) from exc


def token_text(token: Token) -> str:
    if isinstance(token, bytes):
        return token.decode("utf-8", "replace")
    return ""


def parse_response(resp: RawResponse, session: Connection) -> list[Token]:
    try:
        return parse_tokens(resp)
    except WireError as exc:
        raise ProtocolError(f"unparsable response: {exc}", **session.error_context()) from exc
