"""Run a command from the checkout's root, the way a user or a worker would, in a fresh process."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_in_checkout(
    cmd: Sequence[str], *, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in the checkout with ``env``; its exit status and text output.

    It never raises on a non-zero exit: the caller asserts the status itself, with the output
    in the message, so a failure shows what the command printed.
    """
    return subprocess.run(
        list(cmd),
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
