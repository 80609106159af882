"""Process plumbing shared by the lab servers: run, wait for a port, stop by pid, log tails.

The lab only ever signals pids it recorded itself, and before signalling it checks that the
process still belongs to this lab (its command line or environment mentions the state folder),
so a recycled pid or another helper's server is never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from lab._errors import ServerStartError

__all__ = [
    "alive",
    "belongs_to",
    "children",
    "descendants",
    "grandchildren",
    "live_pid",
    "read_pidfile",
    "run_checked",
    "spawn_lab_module",
    "stop_pids",
    "tail",
    "tcp_open",
    "wait_for",
    "wait_tcp",
]


_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def spawn_lab_module(
    module: str, *, state_dir: Path, port: int, log: Path
) -> subprocess.Popen[bytes]:
    """Start ``python -m <module> --state-dir D --port P`` (a lab's own Python server) in its
    own session, output appended to ``log``; the caller writes its pidfile."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
    )
    cmd = [sys.executable, "-m", module, "--state-dir", str(state_dir), "--port", str(port)]
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(_PACKAGE_ROOT),
            start_new_session=True,
        )


def tail(path: Path, lines: int = 15) -> str:
    """Return the last ``lines`` lines of a log file, or a note that there is none."""
    try:
        data = path.read_bytes()[-20_000:]
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def run_checked(
    server: str,
    cmd: Sequence[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> str:
    """Run a control command; on failure raise ServerStartError with its output and log tail."""
    # Output goes to a file, not a pipe: a daemon keeps inherited pipes open forever.
    with tempfile.TemporaryFile(mode="w+") as out:
        try:
            proc = subprocess.run(
                list(cmd),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                env=env,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServerStartError(server, f"{cmd[0]}: {exc}", log_tail=tail(log)) from exc
        out.seek(0)
        output = out.read()
    if proc.returncode != 0:
        raise ServerStartError(
            server,
            f"`{' '.join(cmd)}` exited {proc.returncode}: {output.strip()[-2000:]}",
            log_tail=tail(log),
        )
    return output


def read_pidfile(path: Path) -> int | None:
    try:
        text = path.read_text().strip().split()[0]
        return int(text)
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie (a zombie has already stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    if state in ("Z", "X"):
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def belongs_to(pid: int, marker: str) -> bool:
    """True if the process's command line or environment mentions ``marker`` (a lab path)."""
    needle = marker.encode()
    for name in ("cmdline", "environ"):
        try:
            if needle in Path(f"/proc/{pid}/{name}").read_bytes():
                return True
        except OSError:
            continue
    return False


def live_pid(pidfile: Path, marker: str) -> int | None:
    """The pid in ``pidfile`` if that process runs and is ours (mentions ``marker``), else None.

    A stale pidfile, a zombie, or a reused pid that belongs to someone else all read as None.
    """
    pid = read_pidfile(pidfile)
    if pid is not None and alive(pid) and belongs_to(pid, marker):
        return pid
    return None


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def children(pid: int) -> set[int]:
    """Live children of ``pid``."""
    return set(_children_map().get(pid, []))


def grandchildren(pid: int) -> set[int]:
    """Live children of the children of ``pid``."""
    children = _children_map()
    return {g for c in children.get(pid, []) for g in children.get(c, [])}


def descendants(pid: int) -> set[int]:
    """All live descendants of ``pid`` (children, grandchildren, ...)."""
    children = _children_map()
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def stop_pids(
    pids: Iterable[int], *, timeout: float = 10.0, with_descendants: bool = False
) -> None:
    """SIGTERM each pid, wait until all are gone, SIGKILL what is left after ``timeout``.

    With ``with_descendants`` the children the servers forked are waited for (and killed if
    they linger) too, so nothing the lab started outlives ``down``.
    """
    targets = [p for p in pids if alive(p)]
    family: set[int] = set()
    if with_descendants:
        for pid in targets:
            family |= descendants(pid)
    pending = targets + sorted(family - set(targets))
    # Children too: Dovecot's master otherwise waits a second or more for them.
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if alive(p)]
        if pending:
            time.sleep(0.02)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if alive(p)]
        if pending:
            time.sleep(0.02)


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(check: Callable[[], object], *, timeout: float, interval: float = 0.02) -> bool:
    """Poll ``check()`` until it is truthy or ``timeout`` seconds passed; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_tcp(host: str, port: int, *, timeout: float) -> bool:
    """Wait until something accepts TCP connections on ``host:port``."""
    return wait_for(lambda: tcp_open(host, port), timeout=timeout)
