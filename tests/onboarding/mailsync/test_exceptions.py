"""Foreign exceptions are translated at the boundary; transient ones are marked."""

from __future__ import annotations

import imaplib
import socket
import ssl

import imapclient.exceptions as ice
import pytest

from onboarding._exceptions import OnboardingError
from onboarding.mailsync import (
    AuthFailed,
    ConnectFailed,
    ConnectionLost,
    MailSyncError,
    ProtocolError,
    StateLocked,
    Throttled,
    TLSFailed,
    TransientSyncError,
)
from onboarding.mailsync._exceptions import FOREIGN_MAP, translate

FOREIGN = [
    (imaplib.IMAP4.error("x"), ProtocolError),
    (imaplib.IMAP4.abort("x"), ConnectionLost),
    (imaplib.IMAP4.readonly("x"), ProtocolError),
    (ice.LoginError("x"), AuthFailed),
    (ice.CapabilityError("x"), ProtocolError),
    (ice.IllegalStateError("x"), ProtocolError),
    (ice.InvalidCriteriaError("x"), ProtocolError),
    (ice.ProtocolError("x"), ProtocolError),
    (ssl.SSLCertVerificationError("x"), TLSFailed),
    (ssl.SSLError("x"), TLSFailed),
    (ssl.CertificateError("x"), TLSFailed),
    (socket.gaierror("x"), ConnectFailed),
    (ConnectionRefusedError("x"), ConnectFailed),
    (TimeoutError("x"), ConnectionLost),
    (ConnectionResetError("x"), ConnectionLost),
    (ConnectionAbortedError("x"), ConnectionLost),
    (BrokenPipeError("x"), ConnectionLost),
    (EOFError("x"), ConnectionLost),
    (OSError("x"), ConnectionLost),
]


@pytest.mark.parametrize(("exc", "expected"), FOREIGN, ids=lambda v: type(v).__name__)
def test_each_foreign_class_is_mapped(exc: BaseException, expected: type[MailSyncError]) -> None:
    """Each foreign error becomes its MailSyncError class with the side and a fix."""
    ours = translate(exc, side="source", host="h:1")
    assert type(ours) is expected
    assert ours.side == "source" and ours.fix


def test_mapping_table_is_covered_by_the_test() -> None:
    """Every class in FOREIGN_MAP has a sample in this test."""
    assert {type(e) for e, _ in FOREIGN} >= {cls for cls, _ in FOREIGN_MAP}


def test_transient_marking_and_root() -> None:
    """Connection failures, lost connections, a locked state and throttling are transient (retried);
    auth, TLS and protocol errors are not; the tree is under OnboardingError and Throttled carries
    its backoff."""
    for cls in (ConnectFailed, ConnectionLost, StateLocked):
        assert issubclass(cls, TransientSyncError) and cls.transient
    assert issubclass(Throttled, TransientSyncError)
    for other in (AuthFailed, TLSFailed, ProtocolError):
        assert not other.transient
    assert issubclass(MailSyncError, OnboardingError)
    t = Throttled("slow down", backoff_seconds=300.0, side="destination")
    assert t.backoff_seconds == 300.0 and "slow down" in str(t)
