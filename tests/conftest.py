"""Session-wide test set-up.

Prefect runs against a server started once for the session, with PREFECT_HOME in a
temporary folder, so tests never touch the user's ~/.prefect. Tests that run flows ask for
the ``prefect_server`` fixture; engine tests need no Prefect at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="onboarding-tests-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A Prefect API server for the whole session; yields its PREFECT_HOME folder."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield _PREFECT_HOME
