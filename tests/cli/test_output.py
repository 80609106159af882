"""Unusable input is one sentence on stderr, and with --format json also JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

COMMANDS = [
    ["provision"],
    ["migrate", "--pass", "initial"],
    ["dns-plan"],
    ["dns-check"],
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
