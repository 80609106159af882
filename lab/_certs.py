"""Self-signed certificates for the lab's TLS services and its identity provider's apps."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = ["self_signed"]


def self_signed(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    common_name: str,
    *,
    backdate: datetime.timedelta,
    lifetime: datetime.timedelta,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    """Return a SHA-256 certificate for ``key`` issued by itself to ``common_name``.

    It is valid from ``backdate`` ago (so a clock a little behind still accepts it) until
    ``lifetime`` from now; ``extensions`` are ``(extension, critical)`` pairs.
    """
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - backdate)
        .not_valid_after(now + lifetime)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256())
