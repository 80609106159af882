"""The lab's hosted submission service: Postfix with STARTTLS and Dovecot SASL (587's role).

See :mod:`lab._submission_conf` for what it accepts and where it delivers. Its TLS
certificate is self-signed, made at the first start (``smtp.mailroute.test``, ``localhost``
and ``127.0.0.1``); :func:`onboarding.tls.decide_tls` accepts such a certificate only from a
loopback host.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lab._certs import self_signed
from lab._postfix import PostfixServer
from lab._postfix_conf import GatewayLayout
from lab._submission_conf import SENDER_LOGINS, render_main_cf, render_master_cf

__all__ = ["SubmissionServer", "make_self_signed"]

CERT_NAMES = ("smtp.mailroute.test", "localhost")


def make_self_signed(cert: Path, key: Path, *, names: tuple[str, ...] = CERT_NAMES) -> None:
    """Write a self-signed P-256 certificate for ``names`` and 127.0.0.1 (valid ten years)."""
    private = ec.generate_private_key(ec.SECP256R1())
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = self_signed(
        private,
        names[0],
        backdate=datetime.timedelta(minutes=5),
        lifetime=datetime.timedelta(days=3650),
        extensions=(
            (x509.SubjectAlternativeName(alt), False),
            (x509.BasicConstraints(ca=True, path_length=None), True),
        ),
    )
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    cert.chmod(0o644)


class SubmissionServer(PostfixServer):
    """Postfix on ``port``: STARTTLS, SASL against the hosted Dovecot, delivery to the hosted
    mailboxes (customer domains) or the gateway (anything else)."""

    name = "submission"
    port_label = "submission"

    def __init__(
        self,
        layout: GatewayLayout,
        *,
        port: int,
        gateway: GatewayLayout,
        gateway_port: int,
        hosted_lmtp_port: int,
        sasl_socket: Path,
    ) -> None:
        super().__init__(layout, listen_port=port)
        self.port = port
        self.gateway = gateway
        self.gateway_port = gateway_port
        self.hosted_lmtp_port = hosted_lmtp_port
        self.sasl_socket = sasl_socket

    @property
    def cert(self) -> Path:
        return self.layout.etc / "cert.pem"

    @property
    def key(self) -> Path:
        return self.layout.etc / "key.pem"

    def prepare(self) -> None:
        super().prepare()
        lay = self.layout
        if not (self.cert.exists() and self.key.exists()):
            make_self_signed(self.cert, self.key)
        (lay.etc / "sender_logins").write_text(SENDER_LOGINS)
        (lay.etc / "main.cf").write_text(
            render_main_cf(
                lay,
                gateway=self.gateway,
                gateway_port=self.gateway_port,
                hosted_lmtp_port=self.hosted_lmtp_port,
                sasl_socket=self.sasl_socket,
                cert=self.cert,
                key=self.key,
            )
        )
        (lay.etc / "master.cf").write_text(render_master_cf(submission_port=self.port))
