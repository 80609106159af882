"""Every dnspython exception the engine can meet is translated into the DNSCheckError tree."""

from __future__ import annotations

import dns.exception
import dns.resolver
import pytest

from onboarding import OnboardingError
from onboarding.dnscheck import _exceptions as exc_mod
from onboarding.dnscheck._exceptions import (
    FOREIGN_ERRORS,
    DNSCheckError,
    DNSTimeoutError,
    NoNameserversError,
    ServerFailureError,
    translate,
)

CASES = [
    (dns.resolver.LifetimeTimeout(timeout=0.5, errors=[]), DNSTimeoutError),
    (dns.exception.Timeout(), DNSTimeoutError),
    (dns.resolver.NoNameservers(), ServerFailureError),
    (dns.resolver.NXDOMAIN(), NoNameserversError),
    (dns.resolver.NoAnswer(), NoNameserversError),
    (dns.exception.FormError(), ServerFailureError),
    (dns.exception.SyntaxError(), DNSCheckError),
    (ConnectionRefusedError(111, "refused"), DNSTimeoutError),
]


@pytest.mark.parametrize(("foreign", "ours"), CASES)
def test_foreign_errors_map_to_our_tree(foreign: Exception, ours: type[DNSCheckError]) -> None:
    """Each dnspython or socket error becomes its own DNSCheckError class (under OnboardingError)
    whose message starts with what was asked and which carries the server."""
    err = translate(foreign, what="MX of acme.test at 127.0.0.1:1", server="127.0.0.1:1")
    assert type(err) is ours
    assert isinstance(err, OnboardingError)
    assert str(err).startswith("MX of acme.test at 127.0.0.1:1: ")
    assert err.server == "127.0.0.1:1"


def test_every_mapping_row_is_exercised() -> None:
    """The table has no row the cases above do not reach (and no unreachable row)."""
    hit = set()
    for foreign, _ in CASES:
        hit.add(next(row[0] for row in FOREIGN_ERRORS if isinstance(foreign, row[0])))
    assert hit == {row[0] for row in FOREIGN_ERRORS}


def test_non_dns_errors_are_not_swallowed() -> None:
    """translate refuses an error that is not a DNS or socket error (TypeError) instead of hiding
    it."""
    with pytest.raises(TypeError):
        translate(KeyError("x"), what="x")


def test_tree_is_drawn_in_the_docstring() -> None:
    """Every exported DNSCheckError class is named in the exception tree drawn in the module
    docstring."""
    for name in exc_mod.__all__:
        obj = getattr(exc_mod, name)
        if isinstance(obj, type) and issubclass(obj, DNSCheckError):
            assert name in (exc_mod.__doc__ or "")
