"""Starting servers on free ports in tests.

A port picked free can be taken by another process before our server binds it; that shows as
ServerStartError. Retrying on fresh ports (after stopping whatever did start) makes the race
harmless without hiding a server that really cannot start: the last failure is raised.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lab import ServerStartError

if TYPE_CHECKING:
    from lab import Lab, LabStatus

S = TypeVar("S")
R = TypeVar("R")

ATTEMPTS = 3


def up_on_free_ports(
    build: Callable[[int], S],
    up: Callable[[S], R],
    down: Callable[[S], object],
    attempts: int = ATTEMPTS,
) -> tuple[S, R]:
    """``build(attempt)`` (picking fresh ports), then ``up`` it; on ServerStartError ``down``
    it and try again. Returns the started server and what ``up`` returned."""
    for attempt in range(attempts):
        server = build(attempt)
        try:
            return server, up(server)
        except ServerStartError:
            down(server)
            if attempt == attempts - 1:
                raise
    raise ValueError(f"attempts must be at least 1, not {attempts}")


def lab_on_free_ports(state: Path) -> tuple[Lab, LabStatus]:
    """A started lab on free ports, in ``state/try<n>`` (a fresh folder per attempt, so a
    failed attempt's saved ports are never reused)."""
    from lab import Lab, LabPorts

    return up_on_free_ports(lambda n: Lab(state / f"try{n}", LabPorts.free()), Lab.up, Lab.down)


def free_port() -> int:
    """A loopback TCP port free right now (bound, then released: see the module doc)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
