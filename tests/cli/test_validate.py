"""``onboard validate``: exit 0/1/2, the report as a table or exact JSON, never a traceback."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from support.checkout import ROOT, run_in_checkout
from support.user_lists import GOOD_PW
from typer.testing import CliRunner

from cli.main import app
from cli.prefect_runtime import TEMPORARY_NOTE

EXAMPLE = ROOT / "examples" / "acme" / "customer.yaml"


def _customer(tmp_path: Path, csv_text: str | None = None) -> Path:
    """The example customer with reports under tmp; its users.csv replaced when given."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["output_dir"] = str(tmp_path / "runs")
    if csv_text is not None:
        (tmp_path / "users.csv").write_text(csv_text, encoding="utf-8")
        data["users_csv"] = "users.csv"
    else:  # the example's list, copied: a list outside the customer's folder is refused
        (tmp_path / "users.csv").write_bytes((EXAMPLE.parent / "users.csv").read_bytes())
        data["users_csv"] = "users.csv"
    spec_path = tmp_path / "customer.yaml"
    spec_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return spec_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


BAD_CSV = (
    "email,password\n"
    f"jane@acme.test,{GOOD_PW}\n"
    "bob@gmail.com,hunter2hunter2\n"
    f"jane@ACME.test,{GOOD_PW}\n"
)


def test_valid_list_exits_0(prefect_server: str, tmp_path: Path) -> None:
    """The example customer's list is valid: exit 0 and a one-line verdict."""
    code, out, _ = _run(str(_customer(tmp_path)))
    assert code == 0
    flat = " ".join(out.split())  # the terminal table wraps long paths
    assert "valid" in flat and "22 rows: 22 valid, 0 invalid" in flat
    assert list((tmp_path / "runs" / "acme-corp").glob("*-validate-users/user-validation.csv"))


def test_invalid_rows_exit_1_with_table(prefect_server: str, tmp_path: Path) -> None:
    """Bad rows: exit 1 and a table with row, column, masked value, problem and fix."""
    code, out, _ = _run(str(_customer(tmp_path, BAD_CSV)))
    assert code == 1
    flat = " ".join(out.split())
    assert "has problems" in flat and "3 rows: 0 valid, 3 invalid" in flat
    assert "gmail.com" in flat and "********" in flat and "hunter2hunter2" not in out
    assert "row" in out and "fix" in out and "Report files:" in out


def test_json_shape_is_exact(prefect_server: str, tmp_path: Path) -> None:
    """--format json prints exactly valid, rows and errors of row/column/problem."""
    spec = _customer(tmp_path, BAD_CSV)
    code, out, _ = _run(str(spec), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"ok", "valid", "rows", "errors"}
    assert data["ok"] is data["valid"] is False and data["rows"] == 3
    assert all(set(e) == {"row", "column", "problem"} for e in data["errors"])
    assert {(e["row"], e["column"]) for e in data["errors"]} >= {
        (2, "email"),
        (3, "email"),
        (3, "password"),
        (4, "email"),
    }


def test_users_option_overrides_the_spec(prefect_server: str, tmp_path: Path) -> None:
    """--users checks another CSV than the spec names."""
    spec = _customer(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text(f"email,password\nsomeone@acme.test,{GOOD_PW}\n", encoding="utf-8")
    code, out, _ = _run(str(spec), "--users", str(other), "--format", "json")
    assert code == 0
    assert json.loads(out) == {"ok": True, "valid": True, "rows": 1, "errors": []}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty (0 bytes)"),
        (b"email,password\n", "no users"),
        (b"email;password\na@acme.test;x\n", "semicolon-delimited"),
        ("email,password\nrené@acme.test,x\n".encode("latin-1"), "line 2"),
    ],
    ids=["empty", "header-only", "semicolon", "latin1"],
)
def test_unusable_file_exits_2_with_one_sentence(
    tmp_path: Path, content: bytes, words: str
) -> None:
    """An unusable file: exit 2, one sentence on stderr naming the file; no Prefect needed."""
    spec = _customer(tmp_path, "")
    (tmp_path / "users.csv").write_bytes(content)
    code, out, err = _run(str(spec))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and words in err and str(tmp_path / "users.csv") in err
    assert len(err.strip().splitlines()) == 1


def test_unusable_json(tmp_path: Path) -> None:
    """With --format json an unusable file still prints the JSON shape, and exits 2."""
    spec = _customer(tmp_path, "")
    code, out, err = _run(str(spec), "--users", str(tmp_path / "missing.csv"), "--format", "json")
    assert code == 2 and "no such file" in err
    data = json.loads(out)
    assert data["valid"] is False and data["rows"] == 0
    assert "no such file" in data["errors"][0]["problem"]


def test_bad_spec_exits_2(tmp_path: Path) -> None:
    """A missing spec file is unusable input too."""
    code, _, err = _run(str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err


def test_real_command_with_temporary_server_is_quiet(tmp_path: Path) -> None:
    """The installed command, with no Prefect API configured and no lab's long-lived server,
    starts and stops Prefect's temporary server and prints only its report: no shutdown
    traceback, nothing on stderr but the one-line note that a long-lived server is faster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env["ONBOARD_LAB_STATE_DIR"] = str(tmp_path / "no-lab")
    env.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)  # the command must quiet this itself
    proc = run_in_checkout(
        [sys.executable, "-m", "cli.main", "validate", str(_customer(tmp_path))],
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "22 rows: 22 valid" in " ".join(proc.stdout.split())
    assert proc.stderr == TEMPORARY_NOTE + "\n"


def test_unreachable_prefect_api_exits_2(tmp_path: Path) -> None:
    """A configured Prefect API that does not answer: one sentence and exit 2, no flow run."""
    import socket

    from prefect.settings import PREFECT_API_URL, temporary_settings

    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    with temporary_settings({PREFECT_API_URL: url}):
        code, out, err = _run(str(_customer(tmp_path)))
    assert code == 2 and out == ""
    assert err.startswith(f"error: no Prefect API answers at {url}")
    assert not (tmp_path / "runs").exists()


HOSTILE_CSV = (
    "email,password,aliases\n"
    f"[/bold]jane[red]@acme.test,{GOOD_PW},\n"
    f"bob\x1b[2J\x1b]2owned\x07@acme.test,{GOOD_PW},\n"  # no ';': that refuses the file
    f"carl@acme.test,{GOOD_PW},sales\x9b31m[/x\n"
)


def test_markup_and_escape_sequences_in_cells_are_printed_literally(
    prefect_server: str, tmp_path: Path
) -> None:
    """Issue 13: Rich markup ([/bold]) and terminal escapes (ESC, OSC, the C1 CSI) in CSV
    cells neither crash the command nor reach the terminal raw: they print as written,
    the control characters as visible \\x escapes."""
    result = CliRunner().invoke(
        app, ["validate", str(_customer(tmp_path, HOSTILE_CSV))], env={"COLUMNS": "300"}
    )
    out, err = result.stdout, result.stderr
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), out + err
    assert "[/bold]jane[red]@acme.test" in out and "sales" in out and "[/x" in out
    assert "\x1b" not in out + err and "\x9b" not in out + err and "\x07" not in out + err
    assert "[2J" in out and "]2owned" in out  # the sequences' text, shown inert


def test_escape_sequences_in_a_header_reach_no_terminal(tmp_path: Path) -> None:
    """Issue 13: a header name with an escape sequence, in the one-sentence error of an
    unusable file, is shown escaped (the real command, so nothing is swallowed)."""
    spec = _customer(tmp_path, f"e\x1b[31mmail,password\nann@acme.test,{GOOD_PW}\n")
    proc = run_in_checkout(
        [sys.executable, "-m", "cli.main", "validate", str(spec)],
        env={**os.environ, "ONBOARD_PREFECT_VERBOSE": ""},
        timeout=300,
    )
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr
