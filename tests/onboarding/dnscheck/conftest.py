"""The lab's DNS for dnscheck tests: NSD (authoritative) and Unbound (caching) on 127.0.0.1.

``dns_lab`` hands tests the two server addresses and ``publish(origin, text)``, which replaces
a zone on NSD at runtime. Each test uses fresh zone names (the ``zone`` fixture), so the shared
Unbound cache of the session lab never carries one test's answers into another.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from onboarding.dnscheck.query import AnswerStatus, Server, query_authoritative


@dataclass(frozen=True)
class DNSLab:
    """Addresses of the lab's DNS servers and a way to publish zones."""

    auth: Server
    resolver: Server
    set_zone: Callable[[str, str], object]

    def publish(
        self, origin: str, body: str, *, ttl: int = 300, minimum: int = 300, ns: str = ""
    ) -> None:
        """Publish ``origin`` with SOA/NS prepended and wait until NSD serves the new serial.

        ``minimum`` is the SOA MINIMUM (negative-cache time, RFC 2308); ``ns`` the apex NS host.
        """
        serial = int(time.time() * 10) % 4_000_000_000
        text = (
            f"$ORIGIN {origin}.\n$TTL {ttl}\n"
            f"@ IN SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 {minimum}\n"
            f"@ IN NS {ns or f'ns1.{origin}.'}\nns1 IN A 127.0.0.1\n{body}\n"
        )
        served = self.set_zone(origin, text)  # the lab may bump the serial; it returns it
        if isinstance(served, int):
            serial = served
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                soa = query_authoritative(origin, "SOA", self.auth, timeout=1)
            except Exception:
                soa = None
            if soa is not None and soa.status is AnswerStatus.OK and soa.serial == serial:
                return
            time.sleep(0.05)  # polling NSD for the reload, with a deadline
        raise AssertionError(f"NSD did not serve serial {serial} of {origin} within 10 s")


@pytest.fixture(scope="session")
def dns_lab(request: pytest.FixtureRequest) -> DNSLab:
    """The session lab's DNS servers."""
    lab = request.getfixturevalue("lab")
    servers = lab.dns
    return DNSLab(
        auth=Server(*servers.auth_address),
        resolver=Server(*servers.resolver_address),
        set_zone=servers.set_zone,
    )


@pytest.fixture
def zone() -> str:
    """A fresh zone name under .test for one test (RFC 6761)."""
    return f"d{secrets.token_hex(4)}.test"
