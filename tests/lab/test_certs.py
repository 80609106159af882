"""The lab's self-signed certificates: issued by themselves, backdated, with the asked lifetime."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lab._certs import self_signed


def test_a_self_signed_certificate_names_itself_as_issuer_and_carries_the_extensions() -> None:
    """Rule: subject = issuer = the common name; validity runs from backdate ago for lifetime;
    every requested extension is present with its criticality, and the key's own signature
    verifies the certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.DNSName("localhost")])
    before = datetime.datetime.now(datetime.UTC)
    cert = self_signed(
        key,
        "smtp.example.test",
        backdate=datetime.timedelta(minutes=5),
        lifetime=datetime.timedelta(days=10),
        extensions=((san, False),),
    )
    after = datetime.datetime.now(datetime.UTC)
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [a.value for a in common] == ["smtp.example.test"]
    assert cert.issuer == cert.subject
    slack = datetime.timedelta(seconds=1)  # the certificate's times have whole seconds
    assert before - datetime.timedelta(minutes=5) - slack <= cert.not_valid_before_utc
    assert cert.not_valid_before_utc <= after - datetime.timedelta(minutes=5)
    assert before + datetime.timedelta(days=10) - slack <= cert.not_valid_after_utc
    assert cert.not_valid_after_utc <= after + datetime.timedelta(days=10)
    extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert extension.value == san
    assert extension.critical is False
    cert.verify_directly_issued_by(cert)
