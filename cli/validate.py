"""``onboard validate SPEC``: check the customer's user CSV (placeholder until issue 2 lands)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def validate(spec: Annotated[Path, typer.Argument(help="The customer's YAML spec.")]) -> None:
    """Validate the customer's user list."""
    raise typer.Exit(2)
