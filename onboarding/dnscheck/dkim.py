"""DKIM (RFC 6376, RFC 8301): our key pair per domain and selector, its record, and checks.

Keys are 2048-bit RSA (RFC 8301: signers SHOULD use 2048; some gateways cap at 2048, so not
4096). The private key travels as a :class:`pydantic.SecretStr` and is never logged or
rendered; the task layer stores it in a Prefect Secret block. The public record is
``v=DKIM1; k=rsa; p=<base64 DER SubjectPublicKeyInfo>`` (~410 bytes, so it is published as
two ≤255-byte strings, see :func:`onboarding.dnscheck.zonefile.split_txt`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import dkim as dkimpy
import dns.exception
import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from onboarding.dnscheck._exceptions import DKIMKeyError, DNSCheckError, translate
from onboarding.dnscheck.results import CheckResult, Finding, Severity, findings_or_ok

__all__ = [
    "DKIMKey",
    "DKIMPublicKey",
    "check_dkim",
    "dkim_record_name",
    "generate_private_key",
    "load_key",
    "parse_dkim_record",
    "parse_stored_key",
    "sign_message",
    "stored_key_value",
    "verify_message",
]

KEY_BITS = 2048
MIN_BITS = 1024  # RFC 8301 §3.2: verifiers reject smaller keys


def dkim_record_name(selector: str, domain: str) -> str:
    """Return where the key is published: ``<selector>._domainkey.<domain>``."""
    return f"{selector}._domainkey.{domain}"


def generate_private_key(bits: int = KEY_BITS) -> SecretStr:
    """Return a new RSA private key as PKCS#8 PEM, wrapped so it never prints."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SecretStr(pem.decode("ascii"))


def _public_b64(private_pem: SecretStr) -> tuple[str, int]:
    try:
        key = serialization.load_pem_private_key(
            private_pem.get_secret_value().encode("ascii"), password=None
        )
    except (ValueError, TypeError):
        # The message must not echo the key material.
        raise DKIMKeyError("the stored DKIM private key is not a PEM RSA key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DKIMKeyError("the stored DKIM private key is not an RSA key; generate a new one")
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii"), key.key_size


@dataclass(frozen=True)
class DKIMKey:
    """Our signing key for one domain and selector, with the record that publishes it."""

    domain: str
    selector: str
    bits: int
    public_b64: str
    private_pem: SecretStr = field(repr=False)
    reused: bool = False

    @property
    def record_name(self) -> str:
        return dkim_record_name(self.selector, self.domain)

    @property
    def record(self) -> str:
        """The TXT value: ``v=DKIM1; k=rsa; p=MIIBIjAN...``."""
        return f"v=DKIM1; k=rsa; p={self.public_b64}"


def load_key(
    domain: str, selector: str, private_pem: SecretStr | None, *, bits: int = KEY_BITS
) -> DKIMKey:
    """Return the key for ``domain``/``selector``: the stored one if given, else a new one.

    Re-running the plan must not rotate a key the customer may already have published.
    """
    reused = private_pem is not None
    pem = private_pem if private_pem is not None else generate_private_key(bits)
    public_b64, size = _public_b64(pem)
    return DKIMKey(domain, selector, size, public_b64, pem, reused=reused)


_STORED_FORMAT = "mailroute-dkim-key/1"


def stored_key_value(domain: str, selector: str, private_pem: SecretStr) -> str:
    """The Secret-block value for a key: JSON naming its domain and selector, so a key read
    under a wrong or colliding name is recognised (issue 13)::

        {"format": "mailroute-dkim-key/1", "domain": "acme.test", "selector": "mr1",
         "private_key_pem": "-----BEGIN PRIVATE KEY-----..."}
    """
    return json.dumps(
        {
            "format": _STORED_FORMAT,
            "domain": domain.lower(),
            "selector": selector.lower(),
            "private_key_pem": private_pem.get_secret_value(),
        }
    )


def parse_stored_key(
    value: str, domain: str, selector: str, *, legacy_pem: bool = False
) -> SecretStr:
    """The private PEM in a Secret-block ``value`` (:func:`stored_key_value`) for ``domain``.

    Raises :class:`DKIMKeyError` when the value names another domain or selector, or is
    not the stored format. ``legacy_pem`` also accepts a bare PEM (blocks written before the
    key carried its domain), which cannot be checked and is to be re-saved.
    """
    text = value.strip()
    if legacy_pem and text.startswith("-----BEGIN"):
        return SecretStr(value)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("format") != _STORED_FORMAT:
        raise DKIMKeyError(
            f"the Secret block for {domain}'s DKIM key ({selector}) does not hold a stored "
            "DKIM key; delete the block and run dns-plan again to make a new one"
        )
    owner = (str(data.get("domain", "")), str(data.get("selector", "")))
    if owner != (domain.lower(), selector.lower()):
        raise DKIMKeyError(
            f"the Secret block read for {domain}'s DKIM key ({selector}) holds the key of "
            f"{owner[0]} ({owner[1]}); refusing to use another domain's key, check the "
            "block's name"
        )
    return SecretStr(str(data.get("private_key_pem", "")))


@dataclass(frozen=True)
class DKIMPublicKey:
    """A parsed published key record."""

    key_type: str
    bits: int | None
    public_b64: str
    testing: bool


def parse_dkim_record(name: str, txt: str) -> DKIMPublicKey:
    """Parse a ``v=DKIM1; k=...; p=...`` record with dkimpy; raise :class:`DKIMKeyError`."""
    try:
        _pk, keysize, ktag, _tlsrpt = dkimpy.evaluate_pk(name.encode(), txt.encode("ascii"))
        tags = dkimpy.util.parse_tag_value(txt.encode("ascii"))
    except (dkimpy.DKIMException, UnicodeError, ValueError, IndexError, TypeError) as exc:
        raise DKIMKeyError(
            f"{name}: the DKIM record does not parse ({exc}); publish the record from the DNS plan",
            domain=name,
        ) from None
    p = b"".join(tags.get(b"p", b"").split()).decode("ascii")
    return DKIMPublicKey(
        (ktag or b"rsa").decode(), keysize, p, b"y" in tags.get(b"t", b"").split(b":")
    )


def sign_message(message: bytes, key: DKIMKey) -> bytes:
    """Return ``message`` with a DKIM-Signature header (rsa-sha256, relaxed/relaxed)."""
    header = dkimpy.sign(
        message,
        key.selector.encode(),
        key.domain.encode(),
        key.private_pem.get_secret_value().encode("ascii"),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return bytes(header) + message


def _txt_lookup(resolver: dns.resolver.Resolver, timeout: float) -> Callable[..., bytes | None]:
    """Return a dkimpy ``dnsfunc``: name bytes -> joined TXT bytes or None."""

    def lookup(name: bytes, timeout: float = timeout) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode(), "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.exception.DNSException as exc:
            raise translate(exc, what=f"TXT of {name.decode()}") from exc
        return b"".join(b"".join(rd.strings) for rd in answer)

    return lookup


def verify_message(signed: bytes, *, resolver: dns.resolver.Resolver, timeout: float) -> bool:
    """Return True when the first DKIM signature verifies against the key in DNS."""
    return bool(dkimpy.verify(signed, dnsfunc=_txt_lookup(resolver, timeout), minkey=MIN_BITS))


def check_dkim(
    domain: str,
    selector: str,
    *,
    resolver: dns.resolver.Resolver,
    expected_public_b64: str | None,
    timeout: float,
) -> CheckResult:
    """Check the published key: present, parses, ≥1024 bits, and equal to ours. Never raises."""
    name = dkim_record_name(selector, domain)
    try:
        raw = _txt_lookup(resolver, timeout)(name.encode())
    except DNSCheckError as exc:
        return CheckResult("dkim", domain, error=str(exc))
    if raw is None:
        return CheckResult(
            "dkim",
            domain,
            (
                Finding(
                    Severity.FAIL,
                    "no-key",
                    f"{domain}: no DKIM key at {name}",
                    fix="publish the DKIM TXT record from the DNS plan",
                ),
            ),
        )
    txt = raw.decode("utf-8", "replace")
    try:
        key = parse_dkim_record(name, txt)
    except DKIMKeyError as exc:
        return CheckResult(
            "dkim",
            domain,
            (Finding(Severity.FAIL, "unparsable-key", str(exc), fix="re-publish the record"),),
            record=txt,
        )
    findings: list[Finding] = []
    if key.key_type == "rsa" and (key.bits or 0) < MIN_BITS:
        findings.append(
            Finding(
                Severity.FAIL,
                "key-too-small",
                f"{domain}: the DKIM key at {name} has {key.bits} bits; receivers reject RSA "
                f"keys under {MIN_BITS} bits (RFC 8301 §3.2)",
                fix="publish our 2048-bit key from the DNS plan",
            )
        )
    if expected_public_b64 is not None and key.public_b64 != expected_public_b64:
        findings.append(
            Finding(
                Severity.FAIL,
                "key-mismatch",
                f"{domain}: the key published at {name} is not the key we sign with, so our "
                "signatures will fail",
                fix="replace the record with the one from the DNS plan",
            )
        )
    if key.testing:
        findings.append(
            Finding(
                Severity.WARN,
                "testing-flag",
                f"{domain}: the DKIM record has t=y (testing), receivers may ignore failures",
                fix="drop t=y once signing is verified",
            )
        )
    ok = f"{domain}: DKIM key at {name} is ours ({key.bits} bits)"
    return CheckResult("dkim", domain, findings_or_ok(findings, ok), record=txt)
