"""The one TLS decision every IMAP/SMTP client of the engines takes (onboarding.tls)."""

from __future__ import annotations

import socket
import ssl

import pytest

from onboarding.mailsync import Endpoint
from onboarding.mailsync.connection import Connection
from onboarding.tls import MODES, TLSDecision, decide_tls


def test_none_is_plaintext_without_a_context() -> None:
    """Rule: ``none`` builds no SSL context, wraps nothing and upgrades nothing."""
    plan = decide_tls("none", "127.0.0.1")
    assert plan == TLSDecision("none", "127.0.0.1")
    assert plan.context is None and not (plan.implicit or plan.starttls or plan.starttls_required)
    with socket.socket() as sock, pytest.raises(ValueError, match="no TLS"):
        plan.wrap(sock)


@pytest.mark.parametrize(
    ("mode", "implicit", "starttls", "required"),
    [
        ("implicit", True, False, False),
        ("starttls", False, True, True),
        ("opportunistic", False, True, False),
    ],
)
def test_each_tls_mode_verifies_the_certificate_and_host_name(
    mode: str, implicit: bool, starttls: bool, required: bool
) -> None:
    """Rule: every TLS mode gets a verifying context (CERT_REQUIRED + host-name check);
    the mode only decides when the socket is wrapped and whether STARTTLS is mandatory."""
    plan = decide_tls(mode, "imap.example")
    assert (plan.implicit, plan.starttls, plan.starttls_required) == (implicit, starttls, required)
    assert plan.context is not None and plan.host == "imap.example"
    assert plan.context.verify_mode is ssl.CERT_REQUIRED and plan.context.check_hostname


def test_verify_false_turns_off_both_checks() -> None:
    """Rule: verify=False (mailsync's verify_tls) drops the certificate and host-name checks."""
    plan = decide_tls("implicit", "old.example", verify=False)
    assert plan.context is not None
    assert plan.context.verify_mode is ssl.CERT_NONE and not plan.context.check_hostname


def test_an_unknown_mode_is_a_caller_mistake() -> None:
    """Rule: a mode outside MODES is a ValueError naming the choices, before any I/O."""
    assert MODES == ("implicit", "starttls", "opportunistic", "none")
    with pytest.raises(ValueError, match="implicit, starttls, opportunistic, none"):
        decide_tls("ssl", "imap.example")


def test_mailsync_connections_take_the_shared_decision() -> None:
    """Rule: mailsync's own IMAP client decides TLS through onboarding.tls, once per
    connection, with its endpoint's verify_tls."""
    ep = Endpoint("old.example", 993, "implicit", "ann", "pw", verify_tls=False)
    conn = Connection(ep, "source")
    assert conn.tls == TLSDecision("implicit", "old.example") and conn.tls is conn.tls
    assert conn.tls.context is not None and conn.tls.context.verify_mode is ssl.CERT_NONE


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_self_signed_is_accepted_only_from_loopback_hosts(host: str) -> None:
    """Rule: ``self_signed_on_loopback`` skips verification for a loopback host (the lab's
    submission service) and for nothing else."""
    plan = decide_tls("starttls", host, self_signed_on_loopback=True)
    assert plan.context is not None and plan.context.verify_mode is ssl.CERT_NONE


@pytest.mark.parametrize("host", ["smtp.mailroute.net", "10.0.0.1", "127.0.0.1.example", "::2"])
def test_self_signed_flag_never_weakens_a_real_host(host: str) -> None:
    """Rule: any non-loopback host is verified (certificate and name) even with the flag."""
    plan = decide_tls("starttls", host, self_signed_on_loopback=True)
    assert plan.context is not None
    assert plan.context.verify_mode is ssl.CERT_REQUIRED and plan.context.check_hostname
