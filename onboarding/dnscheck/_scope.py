"""Tight scopes around libraries with global DNS state (reference dns.md §1, §6).

- checkdmarc keeps a module-level answer cache keyed by name and type only, not by resolver:
  asking resolver B after resolver A would return A's answer. :func:`checkdmarc_scope` clears
  it before and after each use, under a lock.
- pyspf resolves through ``dns.resolver.default_resolver``. :func:`default_resolver_scope`
  points it at our resolver for the duration of one evaluation, under a lock, and restores
  the previous value even on error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import checkdmarc.utils
import dns.resolver

__all__ = ["checkdmarc_scope", "default_resolver_scope", "swapped_default_resolver"]

_CHECKDMARC_LOCK = threading.Lock()
_DEFAULT_RESOLVER_LOCK = threading.Lock()


@contextmanager
def checkdmarc_scope() -> Iterator[None]:
    """Run checkdmarc with an empty cache that does not outlive the block."""
    with _CHECKDMARC_LOCK:
        checkdmarc.utils.DNS_CACHE.clear()
        try:
            yield
        finally:
            checkdmarc.utils.DNS_CACHE.clear()


@contextmanager
def default_resolver_scope(resolver: dns.resolver.Resolver) -> Iterator[None]:
    """Make ``resolver`` dnspython's default resolver inside the block only."""
    with _DEFAULT_RESOLVER_LOCK, swapped_default_resolver(resolver):
        yield


@contextmanager
def swapped_default_resolver(resolver: dns.resolver.Resolver) -> Iterator[None]:
    """:func:`default_resolver_scope` without the lock, for a block that takes it itself
    (the test session's DNS guard, around a whole test)."""
    previous = dns.resolver.default_resolver
    dns.resolver.default_resolver = resolver
    try:
        yield
    finally:
        dns.resolver.default_resolver = previous
