"""The lab's hosted submission service: Postfix with STARTTLS and Dovecot SASL (587's role).

See :mod:`lab._submission_conf` for what it accepts and where it delivers. Its TLS
certificate is self-signed, made at the first start (``smtp.mailroute.test``, ``localhost``
and ``127.0.0.1``); :func:`onboarding.tls.decide_tls` accepts such a certificate only from a
loopback host.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lab._errors import ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._postfix_conf import GatewayLayout
from lab._process import alive, children, live_pid, run_checked, tail, tcp_open, wait_for, wait_tcp
from lab._submission_conf import SENDER_LOGINS, render_main_cf, render_master_cf

__all__ = ["SubmissionServer", "make_self_signed"]

MASTER = "/usr/lib/postfix/sbin/master"  # Debian's daemon_directory
CERT_NAMES = ("smtp.mailroute.test", "localhost")


def make_self_signed(cert: Path, key: Path, *, names: tuple[str, ...] = CERT_NAMES) -> None:
    """Write a self-signed P-256 certificate for ``names`` and 127.0.0.1 (valid ten years)."""
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
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


class SubmissionServer:
    """Postfix on ``port``: STARTTLS, SASL against the hosted Dovecot, delivery to the hosted
    mailboxes (customer domains) or the gateway (anything else)."""

    name = "submission"

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
        self.layout = layout
        self.host = HOST
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

    @property
    def pid(self) -> int | None:
        return live_pid(self.layout.pidfile, str(self.layout.etc))

    def pids(self) -> list[int]:
        pid = self.pid
        return [] if pid is None else [pid]

    def prepare(self) -> None:
        lay = self.layout
        for d in (lay.root, lay.etc, lay.queue):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o755)
        lay.data.mkdir(parents=True, exist_ok=True)
        shutil.chown(lay.data, "postfix", "postfix")
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

    def launch(self) -> None:
        if self.pid is not None:
            return
        self.prepare()
        self.layout.pidfile.unlink(missing_ok=True)
        if not (self.layout.queue / "pid").is_dir():
            run_checked(self.name, self._cmd("postfix", "check"), self.layout.log)
        try:
            run_checked(self.name, [MASTER, "-c", str(self.layout.etc), "-w"], self.layout.log)
        except ServerStartError as exc:
            raise ServerStartError(
                self.name, f"{exc.reason}; {self._diagnose()}", log_tail=exc.log_tail
            ) from exc

    def _diagnose(self) -> str:
        probe = socket.socket()
        try:
            probe.bind((self.host, self.port))
        except OSError as exc:
            return f"cannot listen on {self.host}:{self.port}: {exc.strerror}"
        finally:
            probe.close()
        proc = subprocess.run(
            self._cmd("postfix", "check"), capture_output=True, text=True, check=False
        )
        return f"`postfix check` says: {(proc.stdout + proc.stderr).strip() or 'nothing'}"

    def wait_ready(self, timeout: float = 10.0) -> None:
        if not wait_tcp(self.host, self.port, timeout=timeout):
            raise ServerStartError(
                self.name,
                f"nothing answers on {self.host}:{self.port}",
                log_tail=tail(self.layout.log),
            )

    def reload(self) -> None:
        """Make its daemons drop their open tables (the gateway's domains and aliases changed)
        and wait until the old ones are gone, so the next message sees the new tables."""
        pid = self.pid
        if pid is None:
            return
        old = children(pid)
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: not any(alive(p) for p in old), timeout=3.0)

    def info(self) -> ServerInfo:
        pid = self.pid
        return ServerInfo(
            self.name,
            self.host,
            {"submission": self.port},
            pid,
            pid is not None and tcp_open(self.host, self.port),
            str(self.layout.log),
        )

    def _cmd(self, program: str, *args: str) -> list[str]:
        return [program, "-c", str(self.layout.etc), *args]
