"""Benchmark user-list validation: 100,000 rows with 1% bad rows, against named baselines.

Run: ``uv run python bench/validate_users.py`` (``--rows N`` to change the size,
``--no-write`` to leave docs/benchmarks.md alone).

Each contender runs in a fresh subprocess, so peak memory (``ru_maxrss``) is its own:
reported as the peak over the process's size right after its imports. Time is the median of
three runs on the same generated file.

- ``ours``: :func:`validation.users.validate_user_list` (csv reader + pandera schema, lazy).
- ``baseline-per-row``: the obvious script: ``csv.DictReader`` and, per row, email-validator
  and plain-Python checks for the same rules (domain, duplicates, whitespace, control
  characters, password policy). It must find the same bad rows, or the benchmark fails.
- ``floor-pandas-read``: ``pandas.read_csv`` alone, with no checks: the cost of just reading.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._machine import describe_machine, write_section  # noqa: E402

SPEC = ROOT / "examples" / "acme" / "customer.yaml"
SECTION = "## User-list validation (bench/validate_users.py)"
RUNS = 3
BAD_SHARE = 0.01
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%+=?"


def generate(path: Path, rows: int, seed: int = 2026) -> tuple[int, int]:
    """Write ``rows`` users, 1% given one of seven problems; return (injected, bad rows).

    A duplicate makes two rows bad (both are reported), so bad rows exceed the injected count.
    """
    rnd = random.Random(seed)
    domains = ("acme.test", "acme-mail.test")
    lines = ["email,password"]
    bad = injected = 0
    every = round(1 / BAD_SHARE)
    for i in range(rows):
        email = f"user{i:07d}.{rnd.choice(('ops', 'hr', 'it'))}@{domains[i % 2]}"
        password = "".join(rnd.choice(_ALPHABET) for _ in range(12)) + "aA1!"
        if i % every == every // 2:
            kind = (i // every) % 7
            injected += 1
            bad += 1 if kind != 4 else 2  # a duplicate makes two rows bad
            if kind == 0:
                email = email.replace("acme", "example")
            elif kind == 1:
                password = "Password123!"
            elif kind == 2:
                password = "aA1!x"
            elif kind == 3:
                email += " "
            elif kind == 4:
                email = lines[-every + 1].split(",")[0] if i > every else lines[1].split(",")[0]
            elif kind == 5:
                email = email.replace(".", "..", 1)
            else:
                password = password[:6] + "\t" + password[6:]
                password = f'"{password}"'
        lines.append(f"{email},{password}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return injected, bad


_CHILD = r"""
import json, resource, statistics, sys, time
kind, csv_path, spec_path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, sys.argv[5])
import pandas as pd
from validation.spec import load_spec
from validation.users import validate_user_list
import bench.validate_users as bench
from pathlib import Path
# The generated list is the customer's: the spec is read as if it sat beside it (a user
# list outside the customer's folder is refused).
spec = load_spec(spec_path).model_copy(
    update={"spec_path": Path(csv_path).parent / "customer.yaml"})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times, bad_rows = [], None
for _ in range(runs):
    start = time.perf_counter()
    if kind == "ours":
        report = validate_user_list(spec, csv_path)
        bad_rows = sorted({p.row for p in report.problems})
    elif kind == "baseline-per-row":
        bad_rows = bench.per_row_baseline(csv_path, spec)
    else:
        pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    times.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": statistics.median(times), "runs": times,
                  "peak_mib": (peak - base) / 1024, "rss_mib": peak / 1024,
                  "bad_rows": bad_rows}))
"""


def per_row_baseline(csv_path: str, spec: object) -> list[int]:
    """The same rules, one row at a time in plain Python; return the bad spreadsheet rows."""
    import csv

    from email_validator import EmailNotValidError, validate_email

    from validation.password_policy import common_passwords, name_tokens
    from validation.spec import OnboardingSpec

    assert isinstance(spec, OnboardingSpec)
    policy = spec.password_policy
    domains = set(spec.domain_names)
    common = common_passwords()
    control = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
    bad: set[int] = set()
    first_row: dict[str, int] = {}
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        for row_number, row in enumerate(csv.DictReader(fh), start=2):
            email, password = row["email"], row["password"]
            problems = 0
            for value in (email, password):
                problems += value != value.strip()
                problems += bool(control.search(value))
            try:
                checked = validate_email(
                    email.strip(), check_deliverability=False, test_environment=True
                )
                problems += checked.ascii_domain.lower() not in domains
            except EmailNotValidError:
                problems += 1
            key = email.strip().lower()
            if key in first_row:
                problems += 1
                bad.add(first_row[key])
            else:
                first_row[key] = row_number
            lowered = password.lower()
            problems += len(password) < policy.min_length
            kinds = sum(
                bool(re.search(p, password)) for p in ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]")
            )
            problems += kinds < policy.min_character_classes
            stem = re.sub(r"[\d\W_]+$", "", lowered)
            problems += lowered in common or (len(stem) >= 4 and stem in common)
            local = email.strip().rpartition("@")[0]
            problems += any(t in lowered for t in name_tokens(local))
            if problems:
                bad.add(row_number)
    return sorted(bad)


def _measure(kind: str, csv_path: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(csv_path), str(SPEC), str(RUNS), str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _section(rows: int, injected: int, bad: int, results: dict[str, dict[str, object]]) -> str:
    ours = results["ours"]
    base = results["baseline-per-row"]
    floor = results["floor-pandas-read"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION,
        "",
        f"Run {stamp} on: {describe_machine()}. Load from other processes was not controlled.",
        "",
        f"A generated CSV of {rows:,} users, {injected:,} of them (1%) given a problem (wrong "
        "domain, common or short password, trailing space, duplicate of an earlier row, bad "
        f"syntax, control character): {bad:,} bad rows, counting both rows of a duplicate. "
        f"Each tool in a fresh process; time is the median of {RUNS} runs; peak memory is "
        "the growth of the process's peak RSS over its size after imports.",
        "",
        "`ours` = `validate_user_list` (csv reader + pandera `UserList`, lazy, every reason); "
        "`baseline-per-row` = `csv.DictReader` + email-validator + plain-Python checks per row "
        "(same rules; it found the same bad rows); `floor-pandas-read` = `pandas.read_csv` "
        "alone, no checks.",
        "",
        "| tool | rows | bad rows found | seconds | rows/s | peak memory (MiB over imports) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        found = r["bad_rows"]
        found_text = f"{len(found):,}" if isinstance(found, list) else "n/a"
        seconds = float(str(r["seconds"]))
        lines.append(
            f"| {name} | {rows:,} | {found_text} | {seconds:.2f} | {rows / seconds:,.0f} | "
            f"{float(str(r['peak_mib'])):.0f} |"
        )
    ratio = float(str(base["seconds"])) / float(str(ours["seconds"]))
    over_floor = float(str(ours["seconds"])) / float(str(floor["seconds"]))
    target = "under" if float(str(ours["seconds"])) < 3 else "OVER"
    lines += [
        "",
        f"Ratio baseline-per-row/ours: {ratio:.1f}× faster. Ours costs {over_floor:.1f}× a bare "
        f"pandas read. Target < 3 s for 100,000 rows: {target} "
        f"({float(str(ours['seconds'])):.2f} s).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-users-") as tmp:
        csv_path = Path(tmp) / "users.csv"
        injected, bad = generate(csv_path, args.rows)
        results: dict[str, dict[str, object]] = {}
        for kind in ("ours", "baseline-per-row", "floor-pandas-read"):
            started = time.perf_counter()
            results[kind] = _measure(kind, csv_path)
            print(
                f"{kind}: {results[kind]['seconds']:.2f} s median "
                f"({time.perf_counter() - started:.0f} s wall)",
                file=sys.stderr,
            )
    ours_rows, base_rows = results["ours"]["bad_rows"], results["baseline-per-row"]["bad_rows"]
    if ours_rows != base_rows:
        raise SystemExit("ours and the baseline disagree about which rows are bad")
    assert isinstance(ours_rows, list)
    if len(ours_rows) != bad:
        raise SystemExit(f"generated {bad} bad rows but validation found {len(ours_rows)}")
    section = _section(args.rows, injected, bad, results)
    print(section)
    if not args.no_write:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
