"""Shared command-line output: the ``--format`` option, exit codes, and a flow's report.

Exit codes are the same for every command: 0 success, 1 the input or the run has problems
the report lists, 2 unusable input or set-up (one sentence on stderr, no traceback; with
``--format json`` also ``{"ok": false, "exit_code": 2, "error": "..."}`` on stdout, so a
program reading stdout never gets nothing).

Each command makes one :class:`Output` from its ``--format`` and passes it along; nothing
here keeps state between commands.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from flows.results import FlowResult
    from validation.spec import OnboardingSpec

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "Format",
    "FormatOption",
    "Output",
    "SpecArgument",
    "exit_with",
    "fail",
    "plain",
    "print_json",
    "safe",
    "warn_spec",
]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNUSABLE = 2

R = TypeVar("R", bound="FlowResult")


class Format(StrEnum):
    """Output format of a command."""

    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="text for people, json for programs.")
]
SpecArgument = Annotated[Path, typer.Argument(help="The customer's YAML spec (customer.yaml).")]


# C0 controls but tab and newline, DEL, C1 controls (CSI is U+009B), and the invisible
# direction overrides (Trojan Source, CVE-2021-42574): never sent to a terminal as they are.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """``value`` as text a terminal shows literally: control characters (ESC, CSI, other C0
    and C1 controls, bidi overrides) become ``\\x1b``-style escapes; tab and newline stay.

    For ``typer.echo`` of anything that came from data (a CSV, a server, a report file).
    """
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def safe(value: object) -> str:
    """:func:`plain`, then Rich markup escaped: for ``console.print`` and table cells, so a
    cell such as ``[/bold]`` is printed as written and never parsed as markup. Put a space
    (or nothing) after it, never a markup tag directly."""
    from rich.markup import escape

    text = plain(value)
    escaped = escape(text)
    # Rich doubles a trailing backslash, assuming a tag follows at once; our callers always
    # put a space or the end after data, where the doubled one would print as two.
    return escaped[:-1] if text.endswith("\\") and escaped.endswith("\\\\") else escaped


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def exit_with(ok: bool) -> NoReturn:
    """Exit 0 when ``ok``, else 1 (the run has problems its printed report lists)."""
    raise typer.Exit(EXIT_OK if ok else EXIT_INVALID)


@dataclass(frozen=True)
class Output:
    """How one command speaks: text for people or JSON for programs."""

    format: Format = Format.TEXT

    @property
    def json(self) -> bool:
        return self.format is Format.JSON

    def fail(self, message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
        """Print one clear sentence on stderr (and JSON on stdout for --format json); exit."""
        typer.echo(f"error: {plain(message)}", err=True)
        if self.json:
            print_json({"ok": False, "exit_code": code, "error": message})
        raise typer.Exit(code)

    def load_spec(self, path: Path) -> OnboardingSpec:
        """Load the customer's spec, or exit 2 with the loader's sentence (file, field, fix).

        Commands call it before starting Prefect, so unusable input is reported at once.
        """
        from onboarding import OnboardingError
        from validation.spec import load_spec

        try:
            spec = load_spec(path)
        except OnboardingError as exc:
            self.fail(str(exc))
        warn_spec(spec)
        return spec

    def finish(self, result: R, show: Callable[[R], None]) -> NoReturn:
        """Print a flow's result (its model's JSON, or ``show(result)``); exit 0 if ok, else 1."""
        if self.json:
            print_json(result.to_json())
        else:
            show(result)
        exit_with(result.ok)


def warn_spec(spec: OnboardingSpec) -> None:
    """Say on stderr what the spec lets through that is unsafe (``allow_plaintext: true``)."""
    if spec.plaintext_warning:
        typer.echo(f"warning: {spec.plaintext_warning}", err=True)


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    """:meth:`Output.fail` for text-only commands (``onboard lab``)."""
    Output().fail(message, code)
