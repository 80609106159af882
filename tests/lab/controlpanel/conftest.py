"""A lab control-panel process of its own (``--no-lab``: HTTP and database only) per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.panel import standalone_panel


@dataclass
class Panel:
    url: str
    key: str
    state_dir: Path
    http: httpx.Client  # authenticated raw client for contract-shape assertions


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panel]:
    state = tmp_path_factory.mktemp("controlpanel")
    with standalone_panel(state) as (endpoint, http):
        yield Panel(endpoint.url, endpoint.api_key, state, http)
