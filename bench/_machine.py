"""What every benchmark shares: the machine it ran on, and its section of docs/benchmarks.md.

Each ``bench/*.py`` owns one ``## ...`` section of the page; re-running a benchmark replaces
its own section and leaves the others as they are.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["DOCS", "describe_machine", "write_section"]

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
_HEADER = (
    "# Benchmarks\n\nEach section is written by one command under `bench/` and names the "
    "machine it ran on (the reference machine: 2 cores, 24 GiB).\n\n"
)


def describe_machine() -> str:
    """Return cores, CPU model, RAM, OS and Python, e.g. ``2 cores (AMD EPYC), 24 GiB RAM, …``."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def write_section(heading: str, text: str, docs: Path = DOCS) -> None:
    """Replace the section that starts with ``heading`` in ``docs`` by ``text`` (or append it)."""
    current = docs.read_text(encoding="utf-8") if docs.exists() else _HEADER
    start = current.find(heading)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(heading))
        updated = current[:start] + text + ("" if end == -1 else current[end:])
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
