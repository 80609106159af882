"""Global DNS state: the test guard catches forgotten resolvers; our scopes restore state."""

from __future__ import annotations

import time

import checkdmarc.utils
import dns.resolver
import pytest
import spf as pyspf

from onboarding.dnscheck._scope import checkdmarc_scope, default_resolver_scope
from onboarding.dnscheck.query import Server, make_resolver


def test_a_forgotten_resolver_fails_fast_instead_of_leaking() -> None:
    """The autouse guard (tests/conftest.py) aims the default resolver at a closed port."""
    started = time.monotonic()
    with pytest.raises(dns.resolver.LifetimeTimeout):
        dns.resolver.resolve("example.com", "A")
    assert time.monotonic() - started < 0.5 + 2.0  # the guard's lifetime, not the OS default
    # pyspf passes its own lifetime, so it waits that long, but still never leaves 127.0.0.1
    result, _ = pyspf.check2(
        i="192.0.2.1", s="a@example.com", h="example.com", timeout=1, querytime=1
    )
    assert result == "temperror"


def test_default_resolver_scope_restores_the_previous_resolver_even_on_error() -> None:
    """Inside default_resolver_scope dnspython's default resolver is ours; afterwards, also after an
    exception, it is the previous one again."""
    before = dns.resolver.default_resolver
    ours = make_resolver((Server("127.0.0.1", 9),), timeout=1)
    with pytest.raises(RuntimeError), default_resolver_scope(ours):
        assert dns.resolver.default_resolver is ours
        raise RuntimeError("boom")
    assert dns.resolver.default_resolver is before


def test_checkdmarc_cache_does_not_outlive_the_scope() -> None:
    """checkdmarc caches by name and type only; an answer from one resolver must not be
    served for another (reference dns.md §1)."""
    with checkdmarc_scope():
        checkdmarc.utils.DNS_CACHE["acme.test_TXT_False"] = ["v=spf1 -all"]
    assert "acme.test_TXT_False" not in checkdmarc.utils.DNS_CACHE
