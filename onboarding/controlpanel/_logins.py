"""Prove each created mailbox works: log in to the hosted IMAP with its password.

Runs ``concurrency`` logins at a time; each result is ok, or the reason in words (the
server's answer or the network error), never the password. imaplib errors are translated
here and do not escape.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from onboarding.controlpanel._accounts import Credential
from onboarding.controlpanel._results import LoginResult

__all__ = ["check_logins"]


def _connect(host: str, port: int, tls: str, timeout: float) -> imaplib.IMAP4:
    if tls == "implicit":
        return imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    conn = imaplib.IMAP4(host, port, timeout=timeout)
    if tls == "starttls":
        conn.starttls(ssl_context=ssl.create_default_context())
    return conn


def check_login(
    cred: Credential, *, host: str, port: int, tls: str = "implicit", timeout: float = 10.0
) -> LoginResult:
    """Log in as ``cred`` and out again; return whether it worked and why not."""
    try:
        conn = _connect(host, port, tls, timeout)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        return LoginResult(False, f"cannot reach IMAP {host}:{port}: {type(exc).__name__}")
    try:
        conn.login(cred.email, cred.password.get_secret_value())
    except imaplib.IMAP4.error as exc:
        text = str(exc).replace(cred.password.get_secret_value(), "***")
        return LoginResult(False, f"login refused: {text}")
    except (TimeoutError, OSError) as exc:
        return LoginResult(False, f"connection lost during login: {type(exc).__name__}")
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return LoginResult(True)


def check_logins(
    credentials: Sequence[Credential],
    *,
    host: str,
    port: int,
    tls: str = "implicit",
    concurrency: int = 8,
    timeout: float = 10.0,
) -> dict[str, LoginResult]:
    """Return each address's login result (keys are the addresses as given)."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="login") as pool:
        results = pool.map(
            lambda c: check_login(c, host=host, port=port, tls=tls, timeout=timeout), credentials
        )
        return {c.email: r for c, r in zip(credentials, results, strict=True)}
