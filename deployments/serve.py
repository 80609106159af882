"""Serve every deployment of prefect.yaml from this process (one machine, no work pool).

``uv run python -m deployments.serve`` registers the same deployments ``prefect deploy --all``
would, and runs their flow runs as subprocesses of this one. It needs a Prefect server with
a scheduler (``prefect server start``); schedules stay as prefect.yaml declares them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from deployments.validate import load_flow, validate_prefect_yaml

ROOT = Path(__file__).resolve().parents[1]


def main(path: Path = ROOT / "prefect.yaml") -> None:
    result = validate_prefect_yaml(path)
    if not result.valid:
        raise SystemExit("\n".join(result.problems))
    entries: list[dict[str, Any]] = yaml.safe_load(path.read_text())["deployments"]
    served = [
        cast(
            RunnerDeployment,
            load_flow(entry["entrypoint"], ROOT).to_deployment(
                name=entry["name"],
                parameters=entry.get("parameters") or {},
                tags=entry.get("tags") or [],
                description=entry.get("description"),
                enforce_parameter_schema=entry.get("enforce_parameter_schema", True),
            ),
        )  # sync call
        for entry in entries
    ]
    serve(*served)


if __name__ == "__main__":
    main()
