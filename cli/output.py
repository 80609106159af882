"""Shared command-line output: the ``--format`` option and exit codes.

Exit codes are the same for every command: 0 success, 1 the input or the run has problems
the report lists, 2 unusable input or set-up (one sentence on stderr, no traceback; with
``--format json`` also ``{"ok": false, "exit_code": 2, "error": "..."}`` on stdout, so a
program reading stdout never gets nothing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from validation.spec import OnboardingSpec

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "Format",
    "FormatOption",
    "SpecArgument",
    "exit_with",
    "fail",
    "finish",
    "load_spec_or_exit",
    "print_json",
    "reset_format",
]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNUSABLE = 2


class Format(StrEnum):
    """Output format of a command."""

    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="text for people, json for programs.")
]
SpecArgument = Annotated[Path, typer.Argument(help="The customer's YAML spec (customer.yaml).")]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def exit_with(ok: bool) -> NoReturn:
    """Exit 0 when ``ok``, else 1 (the run has problems its printed report lists)."""
    raise typer.Exit(EXIT_OK if ok else EXIT_INVALID)


def finish(
    state: Any,
    data: dict[str, Any],
    output_format: Format,
    show: Callable[[dict[str, Any], str], None],
) -> NoReturn:
    """Print a flow's report and exit 0 if the run completed, 1 otherwise.

    JSON is always ``{"ok", "message", **report}`` so a program reads every command the same
    way; text is ``show(report, state message)``.
    """
    ok = bool(state.is_completed())
    message = state.message or ""
    if output_format is Format.JSON:
        print_json({"ok": ok, "message": message, **data})
    else:
        show(data, message)
    exit_with(ok)


# One command runs per process; the command's --format, once known, shapes fail()'s output.
_format = Format.TEXT


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    """Print one clear sentence on stderr (and JSON on stdout for --format json); exit."""
    typer.echo(f"error: {message}", err=True)
    if _format is Format.JSON:
        print_json({"ok": False, "exit_code": code, "error": message})
    raise typer.Exit(code)


def reset_format() -> None:
    """Forget the previous command's --format (one app may run several commands in tests)."""
    global _format
    _format = Format.TEXT


def load_spec_or_exit(path: Path, output_format: Format = Format.TEXT) -> OnboardingSpec:
    """Load the customer's spec, or exit 2 with the loader's sentence (file, field and fix).

    ``output_format`` is the command's ``--format``; later :func:`fail` calls follow it.
    """
    from onboarding import OnboardingError
    from validation.spec import load_spec

    global _format
    _format = output_format
    try:
        return load_spec(path)
    except OnboardingError as exc:
        fail(str(exc), EXIT_UNUSABLE)
