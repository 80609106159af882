"""Foreign errors are translated at the mail-flow boundary; the public surface is __all__."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl

import imapclient.exceptions as imapclient_exc
import pytest
from support.public_api import exported_names

import onboarding.mailflow as pkg
from onboarding import OnboardingError
from onboarding.mailflow import MailboxFailed, MailFlowError, SendFailed
from onboarding.mailflow._exceptions import FOREIGN_MAP, translate

_SAMPLES: list[BaseException] = [
    smtplib.SMTPRecipientsRefused({"a@b.test": (554, b"Relay access denied")}),
    smtplib.SMTPSenderRefused(553, b"no", "a@b.test"),
    smtplib.SMTPDataError(554, b"no"),
    smtplib.SMTPServerDisconnected("gone"),
    smtplib.SMTPException("odd"),
    imapclient_exc.LoginError("[AUTHENTICATIONFAILED] no"),
    imaplib.IMAP4.abort("socket error"),
    imaplib.IMAP4.error("BAD"),
    ssl.SSLError("handshake"),
    TimeoutError("slow"),
    socket.gaierror("no such host"),
    ConnectionRefusedError("refused"),
    OSError("other"),
]


@pytest.mark.parametrize("exc", _SAMPLES, ids=lambda e: type(e).__name__)
def test_every_foreign_error_becomes_a_mailflow_error(exc: BaseException) -> None:
    """Each class in FOREIGN_MAP is raised as the engine's own error, secret masked."""
    with pytest.raises(SendFailed) as caught, translate(SendFailed, "sending", secret="s3cret"):
        raise type(exc)(*exc.args)
    assert isinstance(caught.value, MailFlowError) and isinstance(caught.value, OnboardingError)
    assert str(caught.value).startswith("sending: ")
    assert caught.value.__cause__ is None  # the foreign text may quote what we sent


def test_every_mapped_class_has_a_sample() -> None:
    """Every foreign class in FOREIGN_MAP has a sample above, so the translation test covers the
    whole map."""
    assert {cls for cls, _ in FOREIGN_MAP} == {type(e) for e in _SAMPLES}


def test_password_is_masked() -> None:
    """A foreign error whose text quotes the password is translated without it."""
    with pytest.raises(MailboxFailed) as caught, translate(MailboxFailed, "login", secret="pw1"):
        raise imaplib.IMAP4.error("LOGIN user pw1 refused")
    assert "pw1" not in str(caught.value)


def test_public_surface_is_all() -> None:
    """The package exports exactly its ``__all__``."""
    assert exported_names(pkg) == set(pkg.__all__)
