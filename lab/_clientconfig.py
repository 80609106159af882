"""Start and stop the lab's client-configuration host (``python -m lab.clientconfig``)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

from lab._process import spawn_lab_module
from lab._spawned import SpawnedServer

__all__ = ["ClientConfigHost"]


class ClientConfigHost(SpawnedServer):
    """The autoconfig/autodiscover host on ``port``; files in ``<state>/clientconfig/sites``."""

    name = "clientconfig"

    def publish(self, files: Mapping[str, str | bytes]) -> list[str]:
        """Publish ``{"<host>/<path>": content}`` (see :func:`lab.clientconfig.publish`)."""
        from lab.clientconfig import publish

        return publish(self.state_dir, files)

    def spawn(self) -> subprocess.Popen[bytes]:
        return spawn_lab_module(
            "lab.clientconfig", state_dir=self.state_dir, port=self.port, log=self.log
        )
