"""Benchmark what an ``onboard`` command pays for Prefect: with the lab's long-lived server
(``onboard lab up``) against a temporary server per command (no server running).

Run: ``uv run python bench/cli_overhead.py`` (``--runs N``, ``--no-write`` to leave
docs/benchmarks.md alone).

It starts its own lab on free ports (with the long-lived Prefect server) and the example
customer on those ports, then runs the installed command (``python -m cli.main``, a fresh
process each time, as a person types it) for ``onboard validate`` and ``onboard dns-plan``:

- ``long-lived``: ``ONBOARD_LAB_STATE_DIR`` names the lab, so the command reports to its
  server.
- ``temporary``: no lab found and no ``PREFECT_API_URL``: the command starts Prefect's
  temporary server, runs, drains its logs and stops it (the README's old default).

For each command and mode: the median wall time of ``--runs`` runs, the flow run's own
duration (start to end, as the server recorded it; long-lived mode), and so what the command
spends outside its flow run (Python start, imports, the API, log drain). The ratio is
temporary / long-lived wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._machine import describe_machine, write_section  # noqa: E402

SECTION = "## Command overhead: long-lived Prefect server (bench/cli_overhead.py)"
COMMANDS = ("validate", "dns-plan")
MODES = ("temporary", "long-lived")
TARGET_S = 3.0


FLOW_MODULES = {"validate": "flows.validate_users", "dns-plan": "flows.dns_plan"}


@dataclass(frozen=True)
class Timing:
    command: str
    mode: str
    walls: tuple[float, ...]
    run_seconds: float | None
    floor: float | None = None  # Python start + the command's imports, no Prefect API

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def outside(self) -> float | None:
        return None if self.run_seconds is None else self.wall - self.run_seconds

    @property
    def prefect_overhead(self) -> float | None:
        """Outside the run, less Python start and imports: the API, the log drain."""
        return None if self.outside is None or self.floor is None else self.outside - self.floor


def _floor(command: str, runs: int) -> float:
    """Median seconds for a fresh Python to import the command and its flow, and exit."""
    code = f"import cli.main, {FLOW_MODULES[command]}"
    walls = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        walls.append(time.monotonic() - t0)
    return statistics.median(walls)


def _env(mode: str, state_dir: Path, scratch: Path, secrets: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= secrets | {"PREFECT_HOME": str(scratch / "prefect-home")}
    env["ONBOARD_LAB_STATE_DIR"] = str(state_dir if mode == "long-lived" else scratch / "no-lab")
    return env


def _last_run_seconds(api_url: str, flow_name: str) -> float | None:
    """The newest run of ``flow_name`` on the server: end minus start, in seconds."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
    if not runs or runs[0].start_time is None or runs[0].end_time is None:
        return None
    return (runs[0].end_time - runs[0].start_time).total_seconds()


def measure(runs: int) -> tuple[list[Timing], float, str]:
    """Start a lab with its Prefect server, time each command in each mode; return the
    timings and how long ``lab up`` took."""
    from lab import Lab, LabPorts
    from lab.customer_dns import publish_initial
    from lab.example_customer import write_example_customer
    from validation.spec import load_spec

    root = Path(tempfile.mkdtemp(prefix="mrbench-cli-"))
    root.chmod(0o755)
    lab = Lab(root / "lab", LabPorts.free())
    try:
        started = time.monotonic()
        lab.up(prefect=True)
        up_s = time.monotonic() - started
        customer = root / "customer"
        customer.mkdir()
        spec = write_example_customer(lab.ports, customer)
        publish_initial(lab.dns, load_spec(spec))
        flows = {"validate": "validate-users", "dns-plan": "dns-plan"}
        timings: list[Timing] = []
        load = f"load average {os.getloadavg()[0]:.1f} at the start"
        for command in COMMANDS:
            for mode in MODES:
                walls: list[float] = []
                for n in range(runs):
                    scratch = root / f"{command}-{mode}-{n}"
                    scratch.mkdir()
                    env = _env(mode, lab.state_dir, scratch, lab.secret_env())
                    t0 = time.monotonic()
                    proc = subprocess.run(
                        [sys.executable, "-m", "cli.main", command, str(spec)],
                        cwd=ROOT,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=600,
                        check=False,
                    )
                    walls.append(time.monotonic() - t0)
                    if proc.returncode != 0:
                        raise SystemExit(
                            f"onboard {command} ({mode}) exited {proc.returncode}:\n"
                            f"{proc.stdout}\n{proc.stderr}"
                        )
                run_s = (
                    _last_run_seconds(lab.prefect.api_url, flows[command])
                    if mode == "long-lived"
                    else None
                )
                floor = _floor(command, runs) if mode == "long-lived" else None
                timings.append(Timing(command, mode, tuple(walls), run_s, floor))
                print(f"{command:<9} {mode:<10} median {timings[-1].wall:.2f} s {walls}")
        return timings, up_s, load
    finally:
        lab.down()
        shutil.rmtree(root, ignore_errors=True)
        if lab.shared_root != lab.state_dir:
            shutil.rmtree(lab.shared_root, ignore_errors=True)


def report(timings: list[Timing], up_s: float, runs: int, load: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION,
        "",
        f"Run {when} on: {describe_machine()}. Lab on 127.0.0.1 (Prefect server with SQLite "
        "under the lab's state folder); load from other processes was not controlled "
        f"({load}, {os.getloadavg()[0]:.1f} at the end, on 2 cores shared with other agents).",
        "",
        "Each command is the installed `onboard` in a fresh process, as typed: `temporary` = no "
        "Prefect server running (the command starts Prefect's temporary server, drains its logs, "
        "stops it); `long-lived` = the lab's server from `onboard lab up` "
        f"(which took {up_s:.1f} s to start the whole lab with it, once). Wall time is the "
        f"median of {runs} runs; `flow run` is the run's own start-to-end on the server; "
        "`outside the run` = wall − flow run; `imports` = a fresh Python importing the command "
        "and its flow, no API (median of the same runs); `Prefect overhead` = outside the run − "
        "imports: the API, the run's bookkeeping, the log drain (and, temporary, the server).",
        "",
        "| command | mode | wall s (median) | runs (s) | flow run s | outside the run s "
        "| imports s | Prefect overhead s |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for t in timings:
        run_s = "n/a" if t.run_seconds is None else f"{t.run_seconds:.2f}"
        outside = "n/a" if t.outside is None else f"{t.outside:.2f}"
        walls = ", ".join(f"{w:.1f}" for w in t.walls)
        floor = "n/a" if t.floor is None else f"{t.floor:.2f}"
        over = "n/a" if t.prefect_overhead is None else f"{t.prefect_overhead:.2f}"
        lines.append(
            f"| {t.command} | {t.mode} | {t.wall:.2f} | {walls} | {run_s} | {outside} "
            f"| {floor} | {over} |"
        )
    lines += ["", "Ratio temporary / long-lived (wall time):"]
    by = {(t.command, t.mode): t for t in timings}
    for command in COMMANDS:
        slow, fast = by[command, "temporary"], by[command, "long-lived"]
        saved = slow.wall - fast.wall
        lines.append(
            f"- `onboard {command}`: {slow.wall / fast.wall:.1f}× faster "
            f"({slow.wall:.1f} s → {fast.wall:.1f} s, {saved:.1f} s saved)"
        )
    lines += ["", f"Target (issue 11): a command's Prefect overhead under {TARGET_S:.0f} s:"]
    for command in COMMANDS:
        fast, slow = by[command, "long-lived"], by[command, "temporary"]
        seconds = fast.prefect_overhead
        verdict = "n/a" if seconds is None else ("met" if seconds < TARGET_S else "NOT met")
        lines.append(
            f"- `onboard {command}`: {verdict} with the long-lived server "
            f"({'n/a' if seconds is None else f'{seconds:.2f} s'}); with a temporary one "
            f"{slow.wall - fast.wall:.1f} s more"
        )
    if any((t.prefect_overhead or 0) < 0 for t in timings):
        lines += [
            "",
            "A negative overhead means the imports floor varied more than the overhead itself "
            "under this load: the overhead is then within the noise, not measured.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    timings, up_s, load = measure(args.runs)
    text = report(timings, up_s, args.runs, load)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
