"""``onboard status [SPEC]``: where a customer's onboarding stands, from the Prefect API.

For one customer: each runbook phase in order, whether it is done, the last run of it (name,
state, when), the open issues (the last run of a phase that did not complete, and what the
latest verification found), and the next thing to do. Without a spec: one line per customer
the server has runs of (customers are known from their runs' ``spec_path`` parameter).

Data: the flow runs on the Prefect API the commands report to (the team server, or the
lab's long-lived one) and the ``verification-issues-<slug>`` artifact of the latest verify
run. ``--format json`` prints :class:`CustomerStatus` (or :class:`StatusList`).

Exit codes: 0 printed; 2 the spec or the Prefect API is unusable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict

from cli.output import Format, FormatOption, Output, plain, print_json

__all__ = ["CustomerStatus", "PhaseStatus", "StatusList", "status"]

# Runbook order: (phase, flow name, the command that runs it).
PHASES = (
    ("validate", "validate-users", "onboard validate SPEC"),
    ("provision", "provision", "onboard provision SPEC"),
    ("preflight", "preflight", "onboard preflight SPEC"),
    ("migrate", "migrate", "onboard migrate SPEC --pass initial"),
    ("dns-plan", "dns-plan", "onboard dns-plan SPEC"),
    ("client-guides", "client-guides", "onboard client-guides SPEC"),
    ("cutover", "cutover", "onboard cutover SPEC"),
    ("verify", "verify", "onboard verify SPEC"),
)
_RUNS_READ = 1000  # the newest flow runs looked at
_PAGE = 200  # the API's largest page


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class LastRun(_Model):
    name: str
    state: str
    when: datetime | None
    message: str = ""


class PhaseStatus(_Model):
    phase: str
    done: bool
    last_run: LastRun | None = None


class CustomerStatus(_Model):
    """``onboard status SPEC --format json``."""

    ok: bool = True
    customer: str
    slug: str
    spec_path: str
    phases: tuple[PhaseStatus, ...]
    open_issues: tuple[str, ...]
    next_step: str


class CustomerLine(_Model):
    customer: str
    spec_path: str
    done: tuple[str, ...]
    last_run: LastRun | None
    next_step: str


class StatusList(_Model):
    """``onboard status --format json`` (no spec): one entry per customer."""

    ok: bool = True
    customers: tuple[CustomerLine, ...]


def _spec_of(run: Any) -> str | None:
    path = (run.parameters or {}).get("spec_path")
    return str(Path(str(path)).resolve()) if path else None


def _last_run(run: Any) -> LastRun:
    state = run.state
    return LastRun(
        name=run.name,
        state=state.name if state else "unknown",
        when=run.start_time or run.expected_start_time,
        message=(state.message or "") if state else "",
    )


def _read_runs(client: Any) -> list[tuple[str, Any]]:
    """The newest flow runs with their flow's name, newest first."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    runs: list[Any] = []
    for offset in range(0, _RUNS_READ, _PAGE):
        page = client.read_flow_runs(
            sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=_PAGE, offset=offset
        )
        runs += page
        if len(page) < _PAGE:
            break
    ids = list({r.flow_id for r in runs})
    flows = client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=ids))) if ids else []
    names = {f.id: f.name for f in flows}
    return [(names.get(r.flow_id, "?"), r) for r in runs]


def _phases(runs: Iterable[tuple[str, Any]]) -> tuple[PhaseStatus, ...]:
    """Each phase: done if any run of it completed; its newest run (``runs`` newest first)."""
    runs = list(runs)
    rows = []
    for phase, flow_name, _ in PHASES:
        mine = [r for name, r in runs if name == flow_name]
        done = any(r.state is not None and r.state.is_completed() for r in mine)
        last = _last_run(mine[0]) if mine else None
        rows.append(PhaseStatus(phase=phase, done=done, last_run=last))
    return tuple(rows)


def _next_step(phases: tuple[PhaseStatus, ...], spec: str) -> str:
    for (phase, _, template), row in zip(PHASES, phases, strict=True):
        if row.done:
            continue
        command = template.replace("SPEC", spec)
        run = row.last_run
        if run is not None and run.state not in ("Running", "Pending", "Scheduled", "Paused"):
            return f"{phase} did not complete ({run.state}): fix what it reports, then {command}"
        if run is not None:
            return f"{phase} is {run.state}: wait for it (or answer it: onboard resume RUN)"
        return command
    return f"onboarded; the follow-up check: onboard verify {spec} --follow-up"


def _verify_issues(client: Any, slug: str, verify_run: Any) -> list[str]:
    """What the latest verify run found (its ``verification-issues-<slug>`` table)."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    found = client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"verification-issues-{slug}"])),
        sort="CREATED_DESC",
        limit=1,
    )
    if not found or found[0].flow_run_id != verify_run.id:
        return []
    data = found[0].data
    rows = json.loads(data) if isinstance(data, str) else data
    return [f"{r['area']} {r['subject']}: {r['problem']} (fix: {r['fix']})" for r in rows or []]


def _customer_status(client: Any, spec_path: Path, runs: list[tuple[str, Any]]) -> CustomerStatus:
    from validation.spec import load_spec

    spec = load_spec(spec_path)
    key = str(spec_path.resolve())
    mine = [(name, r) for name, r in runs if _spec_of(r) == key]
    phases = _phases(mine)
    issues = [
        f"{row.phase}: {row.last_run.state}: {row.last_run.message}"
        for row in phases
        if row.last_run is not None and not row.done and row.last_run.state != "Paused"
    ]
    verify_runs = [r for name, r in mine if name == "verify"]
    if verify_runs:
        issues += _verify_issues(client, spec.customer_slug, verify_runs[0])
    return CustomerStatus(
        customer=spec.customer,
        slug=spec.customer_slug,
        spec_path=key,
        phases=phases,
        open_issues=tuple(issues),
        next_step=_next_step(phases, str(spec_path)),
    )


def _customers(runs: list[tuple[str, Any]]) -> tuple[CustomerLine, ...]:
    specs: dict[str, list[tuple[str, Any]]] = {}
    for name, run in runs:
        path = _spec_of(run)
        if path is not None:
            specs.setdefault(path, []).append((name, run))
    lines = []
    for path, mine in specs.items():
        phases = _phases(mine)
        lines.append(
            CustomerLine(
                customer=_customer_name(path),
                spec_path=path,
                done=tuple(p.phase for p in phases if p.done),
                last_run=_last_run(mine[0][1]),
                next_step=_next_step(phases, path),
            )
        )
    return tuple(sorted(lines, key=lambda line: line.customer))


def _customer_name(path: str) -> str:
    from onboarding import OnboardingError
    from validation.spec import load_spec

    try:
        return load_spec(Path(path)).customer
    except (OnboardingError, OSError, ValueError):
        return f"(spec unreadable: {path})"


def _when(run: LastRun | None) -> str:
    if run is None or run.when is None:
        return "-"
    return run.when.strftime("%Y-%m-%d %H:%M UTC")


def status(
    spec: Annotated[
        Path | None, typer.Argument(help="The customer's YAML spec; none: every customer.")
    ] = None,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Which phases are done, the last run of each, open issues and what to do next."""
    from prefect.client.orchestration import get_client

    from cli.prefect_runtime import PrefectUnavailableError, prefect_runtime

    out = Output(output_format)
    if spec is not None:
        out.load_spec(spec)
    try:
        with prefect_runtime(), get_client(sync_client=True) as client:
            runs = _read_runs(client)
            result: CustomerStatus | StatusList = (
                _customer_status(client, spec, runs)
                if spec is not None
                else StatusList(customers=_customers(runs))
            )
    except PrefectUnavailableError as exc:
        out.fail(str(exc))
    if out.json:
        print_json(result.model_dump(mode="json"))
    elif isinstance(result, CustomerStatus):
        _print_customer(result)
    else:
        _print_list(result)


def _print_customer(result: CustomerStatus) -> None:
    typer.echo(plain(f"{result.customer} ({result.slug}), {result.spec_path}"))
    for row in result.phases:
        run = row.last_run
        last = f"{run.name} {run.state} {_when(run)}" if run else "never run"
        typer.echo(plain(f"  {'done' if row.done else '    '} {row.phase:<14} {last}"))
    for issue in result.open_issues:
        typer.echo(plain(f"  open: {issue}"))
    typer.echo(plain(f"next: {result.next_step}"))


def _print_list(result: StatusList) -> None:
    if not result.customers:
        typer.echo("no customer has runs on this Prefect server yet")
    for line in result.customers:
        done = ", ".join(line.done) or "nothing"
        typer.echo(
            plain(
                f"{line.customer}: done {done}; last {_when(line.last_run)}; next: {line.next_step}"
            )
        )
