"""Engine tests talk HTTP to a real lab control-panel process (``--no-lab``), one per module."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lab.controlpanel import launch, read_api_key, wait_ready
from onboarding.controlpanel import ControlPanelClient, RetryPolicy


@dataclass
class Panel:
    url: str
    key: str
    state_dir: Path
    http: httpx.Client  # authenticated raw client: faults, stats, arranging foreign objects

    def client(self, **kw: object) -> ControlPanelClient:
        kw.setdefault("retry", RetryPolicy(attempts=4, backoff=0.01, jitter=0))
        return ControlPanelClient(self.url, self.key, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panel]:
    state = tmp_path_factory.mktemp("engine-controlpanel")
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
            yield Panel(url, key, state, http)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
