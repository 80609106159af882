"""Session-wide test set-up.

Prefect runs against a server started once for the session, with PREFECT_HOME in a
temporary folder, so tests never touch the user's ~/.prefect. Tests that run flows ask for
the ``prefect_server`` fixture; engine tests need no Prefect at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

_PREFECT_HOME = tempfile.mkdtemp(prefix="onboarding-tests-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline: tracebacks
# As for `onboard`'s own temporary server (cli.prefect_runtime): leases in files, so a killed
# run's expired leases can be reaped (tasks.slots) although an ephemeral server has no
# repossessor.
_FILE_LEASES = "prefect.server.concurrency.lease_storage.filesystem"
os.environ.setdefault("PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE", _FILE_LEASES)

import pytest  # noqa: E402

if TYPE_CHECKING:
    from lab import Lab, LabUser, LabUsers
    from lab.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A Prefect API server for the whole session; yields its PREFECT_HOME folder."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield _PREFECT_HOME


# --- the mail lab (lab/): real Dovecot/Postfix/NSD/Unbound on free 127.0.0.1 ports ----------


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """One lab for the whole session, on free ports in a temporary state folder.

    Tests never change shared state destructively: each takes fresh users/domains from
    ``lab_users``. The lab is stopped (every pid it started) at the end of the session.
    """
    import shutil

    from support.free_ports import lab_on_free_ports

    state = Path(tempfile.mkdtemp(prefix="mrlab-"))
    state.chmod(0o755)  # the mail and postfix users must reach the mail store below it
    the_lab, _ = lab_on_free_ports(state)  # a free port can be taken before it is bound
    try:
        yield the_lab
    finally:
        the_lab.down()
        if os.environ.get("ONBOARD_KEEP_LAB"):  # keep the servers' logs to debug a failure
            print(f"\nlab state kept in {the_lab.state_dir}")
        else:
            shutil.rmtree(state, ignore_errors=True)
            if the_lab.shared_root != the_lab.state_dir:
                shutil.rmtree(the_lab.shared_root, ignore_errors=True)


@pytest.fixture
def lab_users(lab: Lab) -> Iterator[LabUsers]:
    """Factory of fresh users for one test: ``lab_users.new()`` -> LabUser on both servers.

    All users of one test share a fresh domain (``lab_users.domain``) unless ``domain=`` is
    given; logins and mail are removed when the test ends.
    """
    from lab import LabUsers

    users = LabUsers(lab)
    try:
        yield users
    finally:
        users.cleanup()


@pytest.fixture
def lab_user(lab_users: LabUsers) -> LabUser:
    """One fresh user that exists on the source and the destination."""
    return lab_users.new()


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    """One PostgreSQL for the session, on a free port in a temporary folder, stopped at the end."""
    import shutil

    from support.free_ports import free_port

    from lab import ServerStartError
    from lab.postgres import PostgresServer

    state = Path(tempfile.mkdtemp(prefix="mrpg-"))
    state.chmod(0o755)  # the postgres user must reach the cluster below it
    server: PostgresServer | None = None
    try:
        for attempt in range(3):  # a free port can be taken between picking and binding
            server = PostgresServer(state / f"try{attempt}", free_port())
            try:
                server.start()
                break
            except ServerStartError:
                server.stop()
                if attempt == 2:
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(state, ignore_errors=True)


# --- DNS guard: no test reaches the system resolver ------------------------------------------


def _closed_udp_port() -> int:
    """A loopback UDP port nothing listens on (bound, then released)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_DNS_GUARD_PORT = _closed_udp_port()


@pytest.fixture(autouse=True)
def _dns_guard() -> Iterator[None]:
    """Point dnspython's default resolver at a closed local port (lifetime 0.5 s).

    Code that forgets to pass the lab's resolver (or pyspf outside its scope) then fails fast
    with a timeout instead of asking the machine's resolver. Code that passes its own
    resolver, as every engine does, is unaffected.
    """
    import dns.nameserver
    import dns.resolver

    from onboarding.dnscheck._scope import swapped_default_resolver

    guard = dns.resolver.Resolver(configure=False)
    guard.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", _DNS_GUARD_PORT)]
    guard.timeout = guard.lifetime = 0.5
    with swapped_default_resolver(guard):
        yield
