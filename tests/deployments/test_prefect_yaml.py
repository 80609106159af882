"""The project's own prefect.yaml names real flows with parameters they accept, no secrets."""

from __future__ import annotations

from pathlib import Path

from deployments.validate import validate_prefect_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_project_prefect_yaml_is_valid() -> None:
    """Every runbook flow is deployable as written; a broken entrypoint would be listed."""
    result = validate_prefect_yaml(ROOT / "prefect.yaml")
    assert result.problems == ()
    flows = {label.split("/")[0] for label in result.deployments}
    assert flows == {
        "validate-users",
        "provision",
        "preflight",
        "migrate",
        "migrate-batch",
        "dns-plan",
        "dns-check",
        "client-guides",
        "cutover",
        "verify",
        "onboard",
    }
