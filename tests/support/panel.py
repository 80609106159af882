"""The control panel for tests: the one ``Lab.up()`` runs, or a process of a module's own."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lab import Lab
from lab.controlpanel import launch, read_api_key, wait_ready


@dataclass(frozen=True)
class Endpoint:
    """Where a control panel answers, its API key (``login:key``) and its state folder."""

    url: str
    api_key: str
    state_dir: Path


@pytest.fixture(scope="module")
def panel(lab: Lab) -> Endpoint:
    """The control panel ``Lab.up()`` runs next to the mail servers (lab/_controlpanel.py)."""
    lab.controlpanel.wait_ready()
    key = lab.controlpanel.api_key()
    assert key is not None, "the lab's control panel has not created its API key"
    return Endpoint(lab.controlpanel.base_url, key, lab.state_dir)


@contextmanager
def standalone_panel(state: Path) -> Iterator[tuple[Endpoint, httpx.Client]]:
    """Run a control panel of its own (``--no-lab``: HTTP and database only) under ``state``.

    Yields its endpoint and an authenticated raw client; stops the process on exit.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = launch(state, port, state / "server.log", apply_to_lab=False)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc=proc)
        key = read_api_key(state)
        assert key is not None
        with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}) as http:
            yield Endpoint(url, key, state), http
    finally:
        proc.terminate()
        proc.wait(timeout=10)
