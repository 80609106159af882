"""Lab lifecycle: idempotent up/down, nothing left running, failures named with their log."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.free_ports import lab_on_free_ports

from lab import Lab, LabPorts, ServerStartError
from lab._controlpanel import controlpanel_available
from lab._process import alive, descendants


@pytest.fixture
def state_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mrlab-own-") as tmp:
        os.chmod(tmp, 0o755)
        yield Path(tmp)


def test_up_twice_and_down_twice_are_harmless(state_dir: Path) -> None:
    """A second up changes nothing; after down no process the lab started is alive,
    including the children the servers forked; a second down is a no-op."""
    lab, first = lab_on_free_ports(state_dir)
    try:
        assert first.healthy, first.to_dict()
        names = {s.name for s in first.servers}
        servers = {"source", "destination", "gateway", "submission", "dns_auth", "dns_resolver"}
        assert servers <= names
        assert ("controlpanel" in names) == controlpanel_available()
        pids = {s.name: s.pid for s in first.servers}
        second = lab.up()
        assert {s.name: s.pid for s in second.servers} == pids
        started = {p for p in pids.values() if p is not None}
        family = set().union(*(descendants(p) for p in started))
        assert len(started) == len(pids)  # every server has a pid
    finally:
        lab.down()
    assert not [p for p in started | family if alive(p)]
    lab.down()
    status = lab.status()
    assert all(s.pid is None and not s.healthy for s in status.servers)


def test_a_second_process_finds_the_same_lab(state_dir: Path) -> None:
    """Lab(state_dir) without ports reads the ports the lab was started with (CLI,
    control panel), and sees the same accounts."""
    lab, _ = lab_on_free_ports(state_dir)
    try:
        lab.destination.set_account("someone@acme.test", "pw-123456")
        other = Lab(lab.state_dir)
        assert other.ports == lab.ports
        assert other.status().healthy
        assert other.destination.account("someone@acme.test") is not None
    finally:
        lab.down()


def test_a_server_that_cannot_start_is_named_with_its_log(state_dir: Path) -> None:
    """If the gateway's port is taken, up fails naming the gateway and quoting its log."""
    ports = LabPorts.free()
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", ports.gateway_smtp))
    blocker.listen()
    lab = Lab(state_dir, ports)
    try:
        with pytest.raises(ServerStartError) as caught:
            lab.up()
        assert caught.value.server == "gateway"
        assert "Address already in use" in str(caught.value)
    finally:
        lab.down()
        blocker.close()


def test_secret_env_names_the_lab_secrets(lab: Lab) -> None:
    """The env vars tasks/secrets.py reads stand in for the example spec's Secret blocks."""
    env = lab.secret_env()
    assert env["ONBOARD_SECRET_ACME_SOURCE_MASTER"] == lab.source.master_password
    if controlpanel_available():
        login, _, key = env["ONBOARD_SECRET_MAILROUTE_API_KEY"].partition(":")
        assert login and key
