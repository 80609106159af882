"""A lab control-panel process of its own (``--no-lab``: HTTP and database only) per module."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lab.controlpanel import launch, read_api_key, wait_ready


@dataclass
class Panel:
    url: str
    key: str
    state_dir: Path
    http: httpx.Client  # authenticated raw client for contract-shape assertions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panel]:
    state = tmp_path_factory.mktemp("controlpanel")
    port = _free_port()
    proc = launch(state, port, state / "server.log", apply_to_lab=False)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc=proc)
        key = read_api_key(state)
        assert key is not None
        with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}) as http:
            yield Panel(url, key, state, http)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
