"""A test customer on disk: its spec (and user list) in a temp folder, and where its runs go.

The flow-test customers (migration, DNS, cutover) all start here, so the folder layout the
flows write to, ``<output_dir>/<slug>/``, is spelled once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class SpecFiles:
    """A customer spec written to a temp folder, its slug, and the output folder it names."""

    spec: Path
    slug: str
    output_dir: Path

    @property
    def customer_dir(self) -> Path:
        """``<output_dir>/<slug>``: the customer's run folders, cutover ledger and sync state."""
        return self.output_dir / self.slug


def write_customer_files(
    folder: Path, spec: dict[str, Any], users: Iterable[Sequence[str]] | None = None
) -> Path:
    """Write ``spec`` to ``folder/customer.yaml`` and, given rows (header first), ``users.csv``.

    Returns the spec's path.
    """
    if users is not None:
        with (folder / "users.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows(users)
    path = folder / "customer.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path
