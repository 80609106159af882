"""Hostile input through the real ``onboard validate``: one sentence, exit 2, bounded cost.

Each file below once hung the command, ate gigabytes or ended in a traceback (issue 13). Now
each must be refused before any work beyond the readers' limits. The bounds are derived, not
guessed: the command refusing an *empty* CSV is the baseline (its cost is Python, pandas and
pydantic starting up); a hostile file may cost at most twice that in CPU time (waiting for a
FIFO costs no CPU, so CPU time alone would miss a hang: the test also waits for the process
with a guard timeout), and its peak memory may exceed the baseline by at most four times the
byte limit of the reader that refuses it (the bytes, their decoded text and one copy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from support.checkout import ROOT
from support.user_lists import GOOD_PW

from validation.csv_reader import CSV_LIMITS
from validation.spec import MAX_SPEC_BYTES

EXAMPLE = ROOT / "examples" / "acme" / "customer.yaml"
HANG_GUARD_S = 600  # only catches a hang; the real bound is the CPU time below


# Runs the command as its only child, so RUSAGE_CHILDREN is exactly the command's own cost.
_LAUNCHER = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    json.dump({"cpu_s": usage.ru_utime + usage.ru_stime, "peak_kib": usage.ru_maxrss}, fh)
sys.exit(code)
"""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    cpu_s: float
    peak_mib: float


def onboard(*args: str, cwd: Path) -> Run:
    """Run ``onboard ARGS`` (``python -m cli.main``); return its output, CPU time and peak RSS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    stats = cwd / f".usage-{os.getpid()}.json"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(stats), sys.executable, "-m", "cli.main", *args],
            cwd=cwd,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"onboard {' '.join(args)} hung for {HANG_GUARD_S} s")
    usage = json.loads(stats.read_text())
    stats.unlink()
    return Run(proc.returncode, proc.stdout, proc.stderr, usage["cpu_s"], usage["peak_kib"] / 1024)


def _customer(folder: Path, csv: bytes | None = b"", **spec: object) -> Path:
    """A customer folder: the example spec (reports inside) and its users.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update({"users_csv": "users.csv", "output_dir": "runs", **spec})
    path = folder / "customer.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    if csv is not None:
        (folder / "users.csv").write_bytes(csv)
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The command refusing an empty CSV: the cost of starting up and saying one sentence."""
    folder = tmp_path_factory.mktemp("baseline")
    run = onboard("validate", str(_customer(folder)), cwd=folder)
    assert run.code == 2 and "empty (0 bytes)" in run.err
    return run


def _assert_refused(run: Run, baseline: Run, words: str, limit_bytes: int) -> None:
    """Exit 2, one sentence on stderr with ``words``, nothing on stdout; cost within bounds."""
    assert run.code == 2, run.err
    assert "Traceback" not in run.out + run.err
    assert run.out == "" and run.err.startswith("error: ")
    assert len(run.err.strip().splitlines()) == 1, "one sentence"
    assert words in run.err
    assert run.cpu_s <= 2 * baseline.cpu_s, f"{run.cpu_s:.2f} s CPU vs {baseline.cpu_s:.2f} s"
    allowed = baseline.peak_mib + 4 * limit_bytes / (1 << 20)
    assert run.peak_mib <= allowed, f"peak {run.peak_mib:.0f} MiB, allowed {allowed:.0f} MiB"


def _csv_over_size(folder: Path) -> bytes:
    # A header line longer than the whole size limit (the review used 200 MB; any size over
    # the limit takes the same path, and this one is quicker to write).
    return b"email,password," + b"x" * (CSV_LIMITS.max_bytes + 1) + b"\n"


CSV_CASES = {
    "over-size": (_csv_over_size, "over the limit of 32 MiB"),
    "long-line": (
        lambda _: b"email,password\njane@acme.test," + b"x" * (4 << 20) + b"\n",
        "longer than 4,096 characters",
    ),
    "over-long-field-across-lines": (
        lambda _: b'email,password\njane@acme.test,"' + b"ab\n" * 70_000 + b'"\n',
        "is not closed on that line",
    ),
    "too-many-users": (
        lambda _: (
            b"email,password\n"
            + b"".join(b"u%d@acme.test,%s\n" % (i, GOOD_PW.encode()) for i in range(100_001))
        ),
        "more than 100,000 users",
    ),
    "too-many-lines": (lambda _: b"email,password\n" + b"\n" * 200_000, "lines, over the limit"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_hostile_csv_is_refused_within_bounds(tmp_path: Path, baseline: Run, case: str) -> None:
    """Each over-limit CSV: exit 2 with the limit named, in bounded CPU time and memory."""
    make, words = CSV_CASES[case]
    spec = _customer(tmp_path, make(tmp_path))
    run = onboard("validate", str(spec), cwd=tmp_path)
    _assert_refused(run, baseline, words, CSV_LIMITS.max_bytes)
    assert str(tmp_path / "users.csv") in run.err, "the sentence names the file"


def test_fifo_as_csv_is_refused(tmp_path: Path, baseline: Run) -> None:
    """A FIFO where the CSV should be is refused at once, never waited on."""
    spec = _customer(tmp_path, None)
    os.mkfifo(tmp_path / "users.csv")
    run = onboard("validate", str(spec), cwd=tmp_path)
    _assert_refused(run, baseline, "is a FIFO (named pipe), not a file", CSV_LIMITS.max_bytes)


@pytest.mark.parametrize(
    ("how", "target"),
    [("--users", "/dev/zero"), ("--users", "/etc/passwd"), ("users_csv", "/etc/passwd")],
)
def test_files_outside_the_customer_folder_are_refused(
    tmp_path: Path, baseline: Run, how: str, target: str
) -> None:
    """--users and users_csv may name only files in the customer's folder: not a device,
    not /etc/passwd; nothing of the file reaches the output."""
    if how == "--users":
        args = ["validate", str(_customer(tmp_path)), "--users", target]
    else:
        args = ["validate", str(_customer(tmp_path, users_csv=target))]
    run = onboard(*args, cwd=tmp_path)
    _assert_refused(run, baseline, "is outside the customer's folder", CSV_LIMITS.max_bytes)
    assert "root:" not in run.out + run.err


def test_symlink_out_of_the_customer_folder_is_refused(tmp_path: Path, baseline: Run) -> None:
    """A users.csv that is a symlink to a file elsewhere is refused as outside the folder."""
    spec = _customer(tmp_path, None)
    (tmp_path / "users.csv").symlink_to("/etc/passwd")
    run = onboard("validate", str(spec), cwd=tmp_path)
    _assert_refused(run, baseline, "(through a symbolic link)", CSV_LIMITS.max_bytes)
    assert "root:" not in run.out + run.err


def test_symlink_inside_the_customer_folder_is_fine(tmp_path: Path) -> None:
    """A symlink to another file in the same customer folder is the customer's file."""
    _customer(tmp_path, None)
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "2026.csv").write_text(f"email,password\njane@acme.test,{GOOD_PW}\n")
    (tmp_path / "users.csv").symlink_to(tmp_path / "lists" / "2026.csv")
    from validation.spec import load_spec
    from validation.users import user_csv_path

    spec = load_spec(tmp_path / "customer.yaml")
    assert user_csv_path(spec) == tmp_path / "lists" / "2026.csv"


ALIAS_BOMB = "\n".join(
    ["customer: Acme", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)

SPEC_CASES = {
    "alias-bomb": (ALIAS_BOMB, "expands to more than 100,000 values"),
    "deep-nesting": ("customer: Acme\nx: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested more"),
    "huge-integer": ("customer: Acme\nmigration:\n  parallel_mailboxes: " + "9" * 5000, "longer"),
    "duplicate-key": ("customer: Acme\nreseller: A\ncustomer: Beta\n", "written twice"),
    "over-size": ("customer: Acme\n" + "# padding\n" * (MAX_SPEC_BYTES // 10 + 1), "over the"),
}


@pytest.mark.parametrize("case", sorted(SPEC_CASES))
def test_hostile_spec_is_refused_within_bounds(tmp_path: Path, baseline: Run, case: str) -> None:
    """Each hostile spec: exit 2, one sentence naming the file, bounded CPU and memory."""
    text, words = SPEC_CASES[case]
    spec = tmp_path / "customer.yaml"
    spec.write_text(text, encoding="utf-8")
    assert case != "alias-bomb" or len(text) < 3000, "the review's bomb was 2.6 KB"
    run = onboard("validate", str(spec), cwd=tmp_path)
    _assert_refused(run, baseline, words, MAX_SPEC_BYTES)
    assert str(spec) in run.err


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_spec_that_is_not_a_file_is_refused(tmp_path: Path, baseline: Run, kind: str) -> None:
    """A FIFO or /dev/zero given as the spec is refused at once."""
    if kind == "fifo":
        spec = tmp_path / "customer.yaml"
        os.mkfifo(spec)
        words = "is a FIFO"
    else:
        spec, words = Path("/dev/zero"), "is a device"
    run = onboard("validate", str(spec), cwd=tmp_path)
    _assert_refused(run, baseline, words, MAX_SPEC_BYTES)


def test_secret_pasted_into_a_secret_field_is_not_echoed(tmp_path: Path, baseline: Run) -> None:
    """A key pasted into *_secret: exit 2 naming the field, the value nowhere in the output."""
    pasted = "sk_live_51H8xQ2eZvKYlo2C0aBcDeFgHiJkLmNoP"
    spec = _customer(tmp_path, controlpanel={"api_key_secret": pasted})
    run = onboard("validate", str(spec), "--format", "json", cwd=tmp_path)
    assert run.code == 2 and "controlpanel.api_key_secret" in run.err
    assert pasted not in run.out + run.err and "value is not shown" in run.err
