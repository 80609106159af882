"""Engine tests talk HTTP to a real lab control-panel process (``--no-lab``), one per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.panel import standalone_panel

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
    with standalone_panel(state) as (endpoint, http):
        yield Panel(endpoint.url, endpoint.api_key, state, http)
