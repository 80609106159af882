"""The example customer (``examples/acme``) pointed at one lab's ports.

The example spec names the lab's default ports; a lab on free ports (tests, benchmarks)
gets a copy of the spec and its user list with that lab's ports instead.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lab._ports import LabPorts

__all__ = ["EXAMPLE", "write_example_customer"]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "acme"


def write_example_customer(ports: LabPorts, folder: Path) -> Path:
    """Write the example's spec (on ``ports``, reports under ``folder/runs``) and its user
    list into ``folder``; return the spec's path."""
    data = yaml.safe_load(ports.rewrite((EXAMPLE / "customer.yaml").read_text(encoding="utf-8")))
    data["output_dir"] = "runs"
    (folder / "users.csv").write_bytes((EXAMPLE / "users.csv").read_bytes())
    spec = folder / "customer.yaml"
    spec.write_text(yaml.safe_dump(data), encoding="utf-8")
    return spec
