"""DKIM keys: 2048-bit generation, the record, reuse on re-run, and the secret never shown."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from onboarding.dnscheck.dkim import (
    DKIMKeyError,
    dkim_record_name,
    generate_private_key,
    load_key,
    parse_dkim_record,
)
from onboarding.dnscheck.zonefile import split_txt, txt_rdata


@pytest.fixture(scope="module")
def pem() -> SecretStr:
    return generate_private_key()


def test_new_key_is_2048_bit_rsa_with_a_two_string_record(pem: SecretStr) -> None:
    """RFC 8301: 2048 bits; the ~410-byte record needs two ≤255-byte strings."""
    key = load_key("acme.test", "mr1", pem)
    assert key.bits == 2048
    assert key.record_name == "mr1._domainkey.acme.test" == dkim_record_name("mr1", "acme.test")
    assert key.record.startswith("v=DKIM1; k=rsa; p=MIIBIjAN")
    chunks = split_txt(key.record)
    assert len(chunks) == 2 and all(len(c) <= 255 for c in chunks)
    parsed = parse_dkim_record(key.record_name, key.record)
    assert (parsed.key_type, parsed.bits, parsed.public_b64) == ("rsa", 2048, key.public_b64)


def test_stored_key_is_reused_not_rotated(pem: SecretStr) -> None:
    """Re-running the plan with the stored key yields the same public record."""
    first = load_key("acme.test", "mr1", pem)
    again = load_key("acme.test", "mr1", SecretStr(pem.get_secret_value()))
    assert again.reused and again.record == first.record


def test_without_stored_key_a_new_one_is_made() -> None:
    """With no stored key a new one of the asked size is made and marked as not reused."""
    key = load_key("acme.test", "mr1", None, bits=1024)
    assert not key.reused and key.bits == 1024


def test_private_key_never_appears_in_repr_or_str(pem: SecretStr) -> None:
    """Neither the key nor its private PEM shows the key material or ``PRIVATE KEY`` in repr or
    str."""
    key = load_key("acme.test", "mr1", pem)
    body = pem.get_secret_value().splitlines()[1]
    for text in (repr(key), str(key), repr(key.private_pem), f"{key.private_pem}"):
        assert body not in text
        assert "PRIVATE KEY" not in text


def test_garbage_private_key_error_does_not_echo_it() -> None:
    """A stored private key that does not load raises DKIMKeyError without quoting the key text."""
    with pytest.raises(DKIMKeyError) as info:
        load_key("acme.test", "mr1", SecretStr("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n"))
    assert "c2VjcmV0" not in str(info.value)


def test_record_parse_reads_testing_flag_and_joins_split_strings() -> None:
    """A record split into TXT strings parses back when joined, with its key size and the t=y
    testing flag; the zone data quotes each split string."""
    key = load_key("acme.test", "mr1", None, bits=1024)
    joined = "".join(split_txt(key.record + "; t=y"))
    parsed = parse_dkim_record("mr1._domainkey.acme.test", joined)
    assert parsed.testing and parsed.bits == 1024
    assert txt_rdata(key.record).count('"') == 2 * len(split_txt(key.record))


def test_unparsable_record_raises_with_the_name() -> None:
    """A DKIM record whose p= is no RSA key raises DKIMKeyError naming the record's DNS name."""
    with pytest.raises(DKIMKeyError, match=r"mr1\._domainkey\.acme\.test: the DKIM record"):
        parse_dkim_record("mr1._domainkey.acme.test", "v=DKIM1; k=rsa; p=bm90IGEga2V5")
