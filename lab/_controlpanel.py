"""Start and stop the lab control panel process (``python -m lab.controlpanel``).

The control panel itself is another module's job (``lab/controlpanel/``); the lab only runs
it, if it is there, next to the mail servers, and records its pid.
"""

from __future__ import annotations

from pathlib import Path

from lab._spawned import SpawnedServer

__all__ = ["ControlPanel", "controlpanel_available"]


def controlpanel_available() -> bool:
    return (Path(__file__).parent / "controlpanel" / "__main__.py").exists()


class ControlPanel(SpawnedServer):
    """The lab control panel on ``port``; its state lives in ``<state>/controlpanel/``."""

    name = "controlpanel"
    module = "lab.controlpanel"

    def available(self) -> bool:
        return controlpanel_available()

    def api_key(self) -> str | None:
        """The ``login:key`` the control panel created at its first start, if any."""
        try:
            return (self.folder / "api-key").read_text(encoding="ascii").strip() or None
        except OSError:
            return None
