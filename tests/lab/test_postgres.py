"""The lab's PostgreSQL: start/stop are idempotent, nothing outlives stop, failures say why."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from support.free_ports import up_on_free_ports

from lab import LabStateError, ServerStartError
from lab._process import belongs_to, tcp_open
from lab.postgres import PostgresServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def state() -> Iterator[Path]:
    """A state folder the postgres user can reach (pytest's tmp_path sits under a 0700 one)."""
    path = Path(tempfile.mkdtemp(prefix="mrpg-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _processes_of(marker: str) -> list[int]:
    """Every live process whose command line or environment mentions ``marker``."""
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and belongs_to(int(p.name), marker)
    ]


def test_start_and_stop_twice_are_harmless_and_nothing_is_left_running(state: Path) -> None:
    """A second start reuses the running server and a second create_database is fine; after stop no
    port or process is left, and a restart keeps the cluster's databases."""
    server, _ = up_on_free_ports(
        lambda _: PostgresServer(state, _free_port()), PostgresServer.start, PostgresServer.stop
    )
    try:
        first = server.pid()
        server.start()  # already running: the same server, not a second one
        assert first is not None and server.pid() == first
        server.create_database("st")
        server.create_database("st")  # exists already: fine
        with psycopg.connect(server.url("st").replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("st",)
    finally:
        server.stop()
    server.stop()
    assert server.pid() is None
    assert not tcp_open("127.0.0.1", server.port)
    assert _processes_of(str(server.data)) == []

    server.start()  # the cluster and its databases survive a restart
    try:
        with psycopg.connect(server.url("st").replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()
    assert _processes_of(str(server.data)) == []


def test_a_taken_port_fails_with_the_servers_log(state: Path) -> None:
    """A port someone else holds makes start raise ServerStartError quoting PostgreSQL's bind error,
    and no server process is left behind."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = PostgresServer(state, squatter.getsockname()[1])
        try:
            with pytest.raises(ServerStartError) as caught:
                server.start()
        finally:
            server.stop()
    assert "could not bind" in str(caught.value) or "in use" in str(caught.value)
    assert _processes_of(str(server.data)) == []


def test_a_folder_the_postgres_user_cannot_reach_is_named_with_the_fix(tmp_path: Path) -> None:
    """A state folder the postgres user cannot enter raises LabStateError naming the folder and the
    fix (o+x)."""
    tmp_path.chmod(0o700)
    with pytest.raises(LabStateError) as caught:
        PostgresServer(tmp_path, _free_port()).start()
    assert str(tmp_path / "postgres") in str(caught.value) and "o+x" in str(caught.value)
