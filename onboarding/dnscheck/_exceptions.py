"""Errors of the DNS engine, all under :class:`DNSCheckError`.

The tree::

    OnboardingError
    └── DNSCheckError
        ├── NoNameserversError      the domain has no usable authoritative servers
        ├── ServerFailureError      a server answered SERVFAIL, REFUSED or another error rcode
        ├── NotAuthoritativeError   an "authoritative" server answered without the AA bit
        ├── DNSTimeoutError         no answer within the time budget
        └── DKIMKeyError            a DKIM key or record cannot be built or parsed

dnspython exceptions never leave the engine: :func:`translate` maps them (see
``FOREIGN_ERRORS``) and every message names the server, the name asked for and the fix.
"""

from __future__ import annotations

import dns.exception
import dns.resolver

from onboarding._exceptions import OnboardingError

__all__ = [
    "FOREIGN_ERRORS",
    "DKIMKeyError",
    "DNSCheckError",
    "DNSTimeoutError",
    "NoNameserversError",
    "NotAuthoritativeError",
    "ServerFailureError",
    "translate",
]


class DNSCheckError(OnboardingError):
    """Raised when DNS cannot be read or a record cannot be built; the message says the fix."""

    def __init__(self, message: str, *, domain: str | None = None, server: str | None = None):
        super().__init__(message)
        self.domain = domain
        self.server = server


class NoNameserversError(DNSCheckError):
    """Raised when a domain has no NS records, does not exist, or its NS hosts have no address."""


class ServerFailureError(DNSCheckError):
    """Raised when a server answers with an error rcode (SERVFAIL, REFUSED, ...)."""

    def __init__(
        self,
        message: str,
        *,
        domain: str | None = None,
        server: str | None = None,
        rcode: str = "SERVFAIL",
    ):
        super().__init__(message, domain=domain, server=server)
        self.rcode = rcode


class NotAuthoritativeError(DNSCheckError):
    """Raised when a server we treat as authoritative answers without the AA flag (lame)."""


class DNSTimeoutError(DNSCheckError):
    """Raised when no server answered within the configured time budget."""


class DKIMKeyError(DNSCheckError):
    """Raised when a DKIM private key or public-key record cannot be parsed."""


# dnspython exception -> (our class, fix hint). Order matters: subclasses before bases.
FOREIGN_ERRORS: tuple[tuple[type[Exception], type[DNSCheckError], str], ...] = (
    (
        dns.resolver.LifetimeTimeout,
        DNSTimeoutError,
        "check the server address and port, or raise dns.timeout_seconds",
    ),
    (
        dns.exception.Timeout,
        DNSTimeoutError,
        "check the server address and port, or raise dns.timeout_seconds",
    ),
    (
        dns.resolver.NoNameservers,
        ServerFailureError,
        "every server answered with an error (SERVFAIL/REFUSED); check the zone is loaded",
    ),
    (
        dns.resolver.NXDOMAIN,
        NoNameserversError,
        "the name does not exist; check the spelling in customer.yaml",
    ),
    (
        dns.resolver.NoAnswer,
        NoNameserversError,
        "the name exists but has no records of that type",
    ),
    (
        dns.exception.FormError,
        ServerFailureError,
        "the server sent a malformed answer; try another server",
    ),
    (
        dns.exception.DNSException,
        DNSCheckError,
        "see the message; check the DNS settings in customer.yaml",
    ),
    (OSError, DNSTimeoutError, "the server is unreachable; check its address and port"),
)


def translate(
    exc: Exception, *, what: str, domain: str | None = None, server: str | None = None
) -> DNSCheckError:
    """Return the :class:`DNSCheckError` for a dnspython (or socket) exception.

    ``what`` says what we were doing, e.g. ``"MX of acme.test at 127.0.0.1:10053"``.
    """
    for foreign, ours, fix in FOREIGN_ERRORS:
        if isinstance(exc, foreign):
            detail = str(exc) or type(exc).__name__
            return ours(f"{what}: {detail}; {fix}", domain=domain, server=server)
    raise TypeError(f"not a DNS error: {exc!r}") from exc
