"""One Postfix instance of the lab (the gateway, the submission service): its lifecycle.

A subclass says which port it listens on and writes its own ``main.cf``/``master.cf``
(``prepare``); starting the master, diagnosing a failed start, waiting for the port,
reloading and reporting status are the same for every instance.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess

from lab._errors import ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._postfix_conf import GatewayLayout
from lab._process import alive, children, live_pid, run_checked, tail, tcp_open, wait_for, wait_tcp

__all__ = ["MASTER", "PostfixServer"]

MASTER = "/usr/lib/postfix/sbin/master"  # Debian's daemon_directory


class PostfixServer:
    """A Postfix instance under ``layout`` that listens on ``listen_port``."""

    name: str
    port_label: str  # the key of the port in ``info().ports``

    def __init__(self, layout: GatewayLayout, *, listen_port: int) -> None:
        self.layout = layout
        self.host = HOST
        self.listen_port = listen_port

    @property
    def pid(self) -> int | None:
        return live_pid(self.layout.pidfile, str(self.layout.etc))

    def pids(self) -> list[int]:
        pid = self.pid
        return [] if pid is None else [pid]

    def prepare(self) -> None:
        """Make the instance's folders; a subclass then writes its configuration."""
        lay = self.layout
        for d in (lay.root, lay.etc, lay.queue):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o755)
        lay.data.mkdir(parents=True, exist_ok=True)
        shutil.chown(lay.data, "postfix", "postfix")

    def launch(self) -> None:
        if self.pid is not None:
            return
        self.prepare()
        self.layout.pidfile.unlink(missing_ok=True)  # stale: its process is gone
        if not (self.layout.queue / "pid").is_dir():
            # First start: let Postfix create its queue folders with the right owners.
            run_checked(self.name, self._cmd("postfix", "check"), self.layout.log)
        # The master directly, not `postfix start`: that adds ~1 s of permission checks.
        # -w returns once the master is up (or failed).
        try:
            run_checked(self.name, [MASTER, "-c", str(self.layout.etc), "-w"], self.layout.log)
        except ServerStartError as exc:
            raise ServerStartError(
                self.name, f"{exc.reason}; {self._diagnose()}", log_tail=exc.log_tail
            ) from exc

    def _diagnose(self) -> str:
        """Why the master did not start: its fatal errors go to syslog, which the lab lacks."""
        probe = socket.socket()
        try:
            probe.bind((self.host, self.listen_port))
        except OSError as exc:
            return f"cannot listen on {self.host}:{self.listen_port}: {exc.strerror}"
        finally:
            probe.close()
        proc = subprocess.run(
            self._cmd("postfix", "check"), capture_output=True, text=True, check=False
        )
        return f"`postfix check` says: {(proc.stdout + proc.stderr).strip() or 'nothing'}"

    def wait_ready(self, timeout: float = 10.0) -> None:
        if not wait_tcp(self.host, self.listen_port, timeout=timeout):
            raise ServerStartError(
                self.name,
                f"nothing answers on {self.host}:{self.listen_port}",
                log_tail=tail(self.layout.log),
            )

    def reload(self) -> None:
        """Make every Postfix daemon drop its open tables (``postfix reload``) and wait until
        the old daemons are gone, so the next message already sees the new tables."""
        pid = self.pid
        if pid is None:
            return
        old = children(pid)
        os.kill(pid, signal.SIGHUP)
        # Idle daemons exit at once; a busy one finishes its job first (bounded wait).
        wait_for(lambda: not any(alive(p) for p in old), timeout=3.0)

    def info(self) -> ServerInfo:
        pid = self.pid
        return ServerInfo(
            self.name,
            self.host,
            {self.port_label: self.listen_port},
            pid,
            pid is not None and tcp_open(self.host, self.listen_port),
            str(self.layout.log),
        )

    def _cmd(self, program: str, *args: str) -> list[str]:
        return [program, "-c", str(self.layout.etc), *args]
