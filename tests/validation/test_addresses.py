"""Address syntax: the fast path agrees with email-validator; domains come back normalised."""

from __future__ import annotations

import pandas as pd
import pytest
from email_validator import EmailNotValidError, validate_email

from validation.addresses import (
    PLAIN_ADDRESS,
    address_problem,
    domain_of,
    local_part_of,
    valid_addresses,
)

SAMPLES = [
    "jane.doe@acme.test",
    "j@a.io",
    "o'brien+tag@acme.test",
    "x_y-z@sub.acme-mail.test",
    "a" * 64 + "@acme.test",
    "a" * 65 + "@acme.test",
    "jane..doe@acme.test",
    ".jane@acme.test",
    "jane.@acme.test",
    "jane@-acme.test",
    "jane@acme-.test",
    "jane@acme",
    "jane@acme.123",
    "jane@@acme.test",
    "ja ne@acme.test",
    "rené@acme.test",
    "jane@bücher.test",
    '"quoted"@acme.test',
    "",
    "@acme.test",
    "jane@",
]


def _reference(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return False
    return True


@pytest.mark.parametrize("address", SAMPLES)
def test_fast_path_never_accepts_what_email_validator_rejects(address: str) -> None:
    """Whatever PLAIN_ADDRESS accepts, email-validator accepts; the verdicts always agree."""
    if PLAIN_ADDRESS.fullmatch(address):
        assert _reference(address)
    assert (address_problem(address) is None) == _reference(address)


def test_column_check_trims_and_lets_empty_pass() -> None:
    """Surrounding spaces are another rule's problem; empty cells are the required rule's."""
    result = valid_addresses(pd.Series([" jane@acme.test ", "", "jane..doe@acme.test"]))
    assert result.tolist() == [True, True, False]


def test_problem_explains() -> None:
    """The reason comes from email-validator, in words."""
    assert "two periods" in (address_problem("jane..doe@acme.test") or "")


def test_domain_and_local_part() -> None:
    """Domains are lower-cased ASCII (IDN as punycode); local parts keep their case."""
    s = pd.Series(["Jane@ACME.Test", "x@bücher.test", "noat"])
    assert domain_of(s).tolist() == ["acme.test", "xn--bcher-kva.test", "noat"]
    assert local_part_of(s).tolist() == ["Jane", "x", ""]
