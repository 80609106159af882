"""The control panel as one of the lab's servers: launch, wait_ready, pids, info.

Shaped like the lab's other servers so ``Lab`` can start it with the rest::

    self.controlpanel = ControlPanelServer(self.state_dir, ports.controlpanel)

It runs ``python -m lab.controlpanel --state-dir <state> --port <port>`` in its own session,
records its pid in ``<state>/controlpanel/controlpanel.pid`` and logs to
``<state>/controlpanel/controlpanel.log``. The API key is created before the process starts,
so :attr:`api_key` is known as soon as ``launch`` returns.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lab._dovecot import ServerInfo
from lab._errors import ServerStartError
from lab._ports import HOST
from lab._process import alive, belongs_to, read_pidfile, stop_pids, tail, tcp_open, wait_tcp
from lab.controlpanel._server import api_key_path, ensure_api_key

__all__ = ["ControlPanelServer"]


class ControlPanelServer:
    """The lab control panel process on ``HOST:port`` for the lab under ``state_dir``."""

    name = "controlpanel"

    def __init__(self, state_dir: Path, port: int, *, apply_to_lab: bool = True) -> None:
        self.state_dir = Path(state_dir)
        self.host = HOST
        self.port = port
        self.apply_to_lab = apply_to_lab
        self.folder = api_key_path(self.state_dir).parent
        self.pidfile = self.folder / "controlpanel.pid"
        self.log = self.folder / "controlpanel.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        """The ``login:key`` clients send as ``Authorization: ApiKey login:key``."""
        return ensure_api_key(self.state_dir)

    @property
    def pid(self) -> int | None:
        pid = read_pidfile(self.pidfile)
        if pid is not None and alive(pid) and belongs_to(pid, str(self.state_dir)):
            return pid
        return None

    def pids(self) -> list[int]:
        pid = self.pid
        return [pid] if pid is not None else []

    def launch(self) -> None:
        """Start the process unless it runs; returns before the port answers."""
        if self.pid is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        ensure_api_key(self.state_dir)
        cmd = [
            sys.executable,
            "-m",
            "lab.controlpanel",
            "--state-dir",
            str(self.state_dir),
            "--port",
            str(self.port),
            "--host",
            self.host,
        ]
        if not self.apply_to_lab:
            cmd.append("--no-lab")
        with self.log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pidfile.write_text(f"{proc.pid}\n")

    def wait_ready(self, timeout: float = 20.0) -> None:
        if not wait_tcp(self.host, self.port, timeout=timeout):
            raise ServerStartError(
                self.name, f"nothing answers on {self.host}:{self.port}", log_tail=tail(self.log)
            )

    def stop(self) -> None:
        stop_pids(self.pids())

    def info(self) -> ServerInfo:
        pid = self.pid
        healthy = pid is not None and tcp_open(self.host, self.port)
        return ServerInfo(self.name, self.host, {"http": self.port}, pid, healthy, str(self.log))
