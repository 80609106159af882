"""The installed ``onboard`` command against a lab started as a person starts it
(``onboard lab up --free-ports``: the mail servers, the long-lived Prefect server, the
example customer's DNS), and the example customer's spec pointed at that lab's ports."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import Lab, ServerStartError
from lab.example_customer import write_example_customer
from support.checkout import run_in_checkout
from support.free_ports import up_on_free_ports


@dataclass(frozen=True)
class Command:
    """One finished ``onboard`` process."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class CliLab:
    """A lab started by ``onboard lab up`` in ``state_dir``; ``onboard(...)`` runs the real
    command with that lab found through ``ONBOARD_LAB_STATE_DIR`` and nothing else set up
    (no ``PREFECT_API_URL``, no ``ONBOARD_SECRET_*`` variables)."""

    state_dir: Path
    status: dict[str, Any]

    @property
    def lab(self) -> Lab:
        return Lab(self.state_dir)

    @property
    def prefect_url(self) -> str:
        return self.lab.prefect.api_url

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PREFECT_API", "ONBOARD_SECRET_"))
        }
        return env | {"ONBOARD_LAB_STATE_DIR": str(self.state_dir), "COLUMNS": "200"}

    def onboard(self, *args: str, timeout: float = 600) -> Command:
        proc = run_in_checkout(
            [sys.executable, "-m", "cli.main", *args], env=self.env(), timeout=timeout
        )
        return Command(tuple(args), proc.returncode, proc.stdout, proc.stderr)

    def example_spec(self, folder: Path) -> Path:
        """The example customer (its spec and user list) in ``folder``, on this lab's ports,
        with its reports under ``folder/runs``."""
        return write_example_customer(self.lab.ports, folder)


def _up(state_dir: Path) -> CliLab:
    probe = CliLab(state_dir, {})
    done = probe.onboard(
        "lab", "up", "--state-dir", str(state_dir), "--free-ports", "--format", "json"
    )
    if done.code != 0 and "failed to start" in done.stdout + done.stderr:
        raise ServerStartError("lab", done.stdout + done.stderr)
    assert done.code == 0, done.stdout + done.stderr
    return CliLab(state_dir, json.loads(done.stdout))


def cli_lab_up(root: Path) -> CliLab:
    """``onboard lab up --free-ports`` in ``root/lab<n>`` (a fresh folder per attempt)."""
    _, started = up_on_free_ports(
        lambda n: root / f"lab{n}",
        _up,
        lambda d: Lab(d).down() if (d / "lab.json").exists() else None,
    )
    return started
