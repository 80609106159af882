"""Start and stop the lab's client-configuration host (``python -m lab.clientconfig``)."""

from __future__ import annotations

from collections.abc import Mapping

from lab._spawned import SpawnedServer

__all__ = ["ClientConfigHost"]


class ClientConfigHost(SpawnedServer):
    """The autoconfig/autodiscover host on ``port``; files in ``<state>/clientconfig/sites``."""

    name = "clientconfig"
    module = "lab.clientconfig"

    def publish(self, files: Mapping[str, str | bytes]) -> list[str]:
        """Publish ``{"<host>/<path>": content}`` (see :func:`lab.clientconfig.publish`)."""
        from lab.clientconfig import publish

        return publish(self.state_dir, files)
