"""The one TLS decision every IMAP/SMTP client of the engines takes (onboarding.tls)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from support.tls_proxy import tls_front

from lab import Lab, LabUser
from onboarding.mailsync import Endpoint, TLSFailed
from onboarding.mailsync.connection import Connection
from onboarding.mailsync.session import open_session
from onboarding.tls import (
    MODES,
    TLSDecision,
    decide_tls,
    is_loopback,
    unverified_warning,
    url_problem,
)


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


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("lab.localhost", True),
        ("10.0.0.1", False),
        ("192.0.2.7", False),
        ("imap.example", False),
        ("127.0.0.1.nip.io", False),
        ("localhost.example", False),
    ],
)
def test_only_loopback_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    """Rule: 127.0.0.0/8, ::1 (also v4-mapped) and localhost names are loopback; a name that
    merely contains one is not."""
    assert is_loopback(host) is loopback


def test_plaintext_to_a_remote_host_needs_the_explicit_override() -> None:
    """Rule: ``none`` to a host that is not loopback is refused by the one TLS decision
    (no client can send a password in clear there) unless allow_plaintext says so."""
    with pytest.raises(ValueError, match="not a loopback host"):
        decide_tls("none", "imap.example")
    assert decide_tls("none", "imap.example", allow_plaintext=True).context is None
    assert decide_tls("none", "127.0.0.1").context is None
    conn = Connection(Endpoint("imap.example", 143, "none", "ann", "pw"), "source")
    with pytest.raises(TLSFailed, match="not a loopback host"):
        _ = conn.tls


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://admin.mailroute.net", None),
        ("http://127.0.0.1:18080", None),
        ("http://admin.mailroute.net", "plain http"),
        ("https://ann:pw-Secret1@admin.mailroute.net", "holds credentials"),
        ("ftp://admin.mailroute.net", "http(s) URL"),
        ("https://admin.mailroute.net:notaport", "not a usable URL"),
    ],
)
def test_url_problem_names_the_rule_never_the_credentials(url: str, fragment: str | None) -> None:
    """Rule: an API URL is https (or http to loopback) without user-info; the sentence never
    repeats what was in the URL's user-info."""
    problem = url_problem(url, "controlpanel.base_url")
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem and "pw-Secret1" not in problem


def test_a_ca_file_that_is_not_a_bundle_is_one_sentence(tmp_path: Path) -> None:
    """Rule: an unreadable ``ca_file`` is a ValueError naming the file and the fix."""
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValueError, match=r"ca_file .*ca\.pem cannot be read as a PEM CA bundle"):
        decide_tls("implicit", "imap.example", ca_file=str(bad))


def test_a_source_with_a_private_ca_is_verified_against_its_ca_file(
    lab: Lab, lab_user: LabUser, tmp_path: Path
) -> None:
    """Rule: certificates are verified by default (a private CA's is refused); with the CA as
    ``ca_file`` the login succeeds; ``verify_tls=False`` accepts it unverified, and the spec
    setting that is a warning naming the host."""
    with tls_front(tmp_path, (lab.source.host, lab.source.imap_port)) as (port, ca_file):

        def endpoint(**tls: Any) -> Endpoint:
            login = lab.source.master_login(lab_user.email)
            return Endpoint("127.0.0.1", port, "implicit", login, lab.source.master_password, **tls)

        with pytest.raises(TLSFailed, match="CERTIFICATE_VERIFY_FAILED"):
            open_session(endpoint(), "source")
        for tls in ({"ca_file": str(ca_file)}, {"verify_tls": False}):
            session = open_session(endpoint(**tls), "source")
            assert session.select("INBOX", readonly=True) is not None
            session.logout()
    assert "tls_verify is false: the certificate of imap.old.example is not checked" in (
        unverified_warning("migration.source", "imap.old.example")
    )
