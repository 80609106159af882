"""What ``Lab.status()`` reports about one server."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ServerInfo"]


@dataclass(frozen=True)
class ServerInfo:
    """What ``status`` reports about one server."""

    name: str
    host: str
    ports: dict[str, int]
    pid: int | None
    healthy: bool
    log: str
