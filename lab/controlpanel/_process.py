"""Start a lab control-panel process and wait until it answers (tests, benchmarks, the lab)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["launch", "wait_ready"]


def launch(
    state_dir: Path, port: int, log: Path, *, apply_to_lab: bool = True
) -> subprocess.Popen[bytes]:
    """Start ``python -m lab.controlpanel`` in the background, output to ``log``."""
    cmd = [
        sys.executable,
        "-m",
        "lab.controlpanel",
        "--state-dir",
        str(state_dir),
        "--port",
        str(port),
    ]
    if not apply_to_lab:
        cmd.append("--no-lab")
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(
    url: str, *, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once ``url``/api/v1/ answers (any status); raise RuntimeError on timeout/exit."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url.rstrip("/") + "/api/v1/", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # 401: it answers
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the control panel exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the control panel at {url} did not answer in {timeout}s"
                ) from None
            time.sleep(0.05)
