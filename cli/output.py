"""Shared command-line output: the ``--format`` option and exit codes.

Exit codes are the same for every command: 0 success, 1 the input or the run has problems
the report lists, 2 unusable input or set-up (one sentence on stderr, no traceback).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any, NoReturn

import typer

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_UNUSABLE", "Format", "fail", "print_json"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNUSABLE = 2


class Format(StrEnum):
    """Output format of a command."""

    TEXT = "text"
    JSON = "json"


FORMAT_OPTION = typer.Option(Format.TEXT, "--format", help="text for people, json for programs.")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    """Print one clear sentence on stderr and exit without a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
