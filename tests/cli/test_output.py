"""Unusable input is one sentence on stderr, and with --format json also JSON on stdout."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cli.main import app
from cli.migrate import _Display
from cli.output import plain, safe
from onboarding.mailsync.progress import MailboxDone

COMMANDS = [
    ["provision"],
    ["migrate", "--pass", "initial"],
    ["dns-plan"],
    ["dns-check"],
    ["client-guides"],
    ["cutover", "--yes"],
    ["verify"],
    ["run", "--yes"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_missing_spec_gives_json_error_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    """A program reading stdout gets {"ok": false, ...} naming the file, not an empty stream."""
    missing = tmp_path / "nope.yaml"
    result = CliRunner().invoke(app, [command[0], str(missing), *command[1:], "--format", "json"])
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["exit_code"] == 2
    assert str(missing) in data["error"] and "no such file" in data["error"]
    assert result.stderr.startswith(f"error: {missing}: no such file")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_missing_spec_in_text_mode_prints_nothing_on_stdout(
    tmp_path: Path, command: list[str]
) -> None:
    """Text mode: the sentence goes to stderr only, and no traceback anywhere."""
    missing = tmp_path / "nope.yaml"
    result = CliRunner().invoke(app, [command[0], str(missing), *command[1:]])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    assert "no such file" in result.stderr


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ("[/bold] text", "[/bold] text"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("bell\x07 nul\x00", "bell\\x07 nul\\x00"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("trailing backslash\\", "trailing backslash\\"),
    ],
)
def test_data_is_printed_as_written_and_never_as_markup_or_a_control(data: str, shown: str) -> None:
    """Rule: cli.output.safe/plain make data inert: Rich markup prints literally, control
    characters (C0 but tab/newline, DEL, C1, bidi overrides) become visible escapes."""
    assert plain(data) == shown
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(f"[red]x[/red] {safe(data)} [green]y[/green]")
    expected = f"x {shown} y\n".expandtabs(8)  # Rich expands tabs to 8 columns
    assert console.file.getvalue() == expected  # type: ignore[attr-defined]


def test_a_server_message_with_markup_does_not_break_the_migration_display() -> None:
    """Issue 13: a mailbox failure whose server text holds ``[/x`` or ``[/bold]`` and an
    escape sequence is printed as written by the live display, not parsed."""
    console = Console(file=io.StringIO(), width=300, color_system=None)
    display = _Display(console)
    display(MailboxDone("ann@acme.test", None, "NO [/x server [/bold] said\x1b[2J no"))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "failed ann@acme.test: NO [/x server [/bold] said\\x1b[2J no" in text
    assert "\x1b" not in text
