"""Waiting in tests: poll for a condition with a deadline instead of a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(check: Callable[[], object], timeout: float = 20.0) -> bool:
    """Poll ``check`` until it holds or ``timeout`` passes; True if it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())
