"""Start and stop the lab control panel process (``python -m lab.controlpanel``).

The control panel itself is another module's job (``lab/controlpanel/``); the lab only runs
it, if it is there, next to the mail servers, and records its pid.
"""

from __future__ import annotations

import contextlib
import http.client
import subprocess
from pathlib import Path

from lab._errors import ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._process import alive, live_pid, read_pidfile, spawn_lab_module, tail, wait_for

__all__ = ["ControlPanel", "controlpanel_available"]


def controlpanel_available() -> bool:
    return (Path(__file__).parent / "controlpanel" / "__main__.py").exists()


def _http_ok(host: str, port: int) -> bool:
    """True if something answers ``GET /`` with any HTTP status."""
    conn = http.client.HTTPConnection(host, port, timeout=1)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class ControlPanel:
    """The lab control panel on ``port``; its state lives in ``<state>/controlpanel/``."""

    name = "controlpanel"

    def __init__(self, state_dir: Path, *, port: int) -> None:
        self.state_dir = state_dir
        self.host = HOST
        self.port = port
        self.folder = state_dir / "controlpanel"
        self.pidfile = self.folder / "controlpanel.pid"
        self.log = self.folder / "controlpanel.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return live_pid(self.pidfile, str(self.state_dir))

    def pids(self) -> list[int]:
        pid = self.pid
        return [] if pid is None else [pid]

    def api_key(self) -> str | None:
        """The ``login:key`` the control panel created at its first start, if any."""
        try:
            return (self.folder / "api-key").read_text(encoding="ascii").strip() or None
        except OSError:
            return None

    def launch(self) -> None:
        if self.pid is not None or not controlpanel_available():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._proc = spawn_lab_module(
            "lab.controlpanel", state_dir=self.state_dir, port=self.port, log=self.log
        )
        self.pidfile.write_text(f"{self._proc.pid}\n")

    def wait_ready(self, timeout: float = 20.0) -> None:
        if not controlpanel_available():
            return

        def ready() -> bool:
            pid = read_pidfile(self.pidfile)
            if pid is None or not alive(pid):
                raise ServerStartError(self.name, "the process exited", log_tail=tail(self.log))
            return _http_ok(self.host, self.port)

        if not wait_for(ready, timeout=timeout, interval=0.05):
            raise ServerStartError(
                self.name,
                f"nothing answers HTTP on {self.host}:{self.port}",
                log_tail=tail(self.log),
            )

    def reap(self) -> None:
        """Collect the exit status of a control panel this process started (no zombie)."""
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=0)

    def info(self) -> ServerInfo:
        pid = self.pid
        return ServerInfo(
            self.name,
            self.host,
            {"http": self.port},
            pid,
            pid is not None and _http_ok(self.host, self.port),
            str(self.log),
        )
