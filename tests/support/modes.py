"""File-mode checks for files that hold customer data (issue 13: 0600 files, 0700 folders)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["mode", "open_umask"]


def mode(path: Path) -> int:
    """The permission bits of ``path`` (``0o600``)."""
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def open_umask() -> Iterator[None]:
    """Run the block under umask 022 (files 0644 by default), so a private mode is our doing."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
