"""The prefect.yaml validator catches mistakes before `prefect deploy` does."""

from __future__ import annotations

from pathlib import Path

from deployments.validate import validate_prefect_yaml

FLOW_MODULE = '''
from prefect import flow


@flow(name="greet", flow_run_name="greet {spec}")
def greet(spec: str, loud: bool = False) -> str:
    """Greet.

    Args:
        spec: Whom to greet.
        loud: Shout.
    """
    return spec


@flow(name="sloppy")
def sloppy(spec: str) -> str:
    return spec
'''


def _project(tmp_path: Path, deployments_yaml: str) -> Path:
    (tmp_path / "flowsfixture").mkdir()
    (tmp_path / "flowsfixture" / "__init__.py").write_text("")
    (tmp_path / "flowsfixture" / "greet_flow.py").write_text(FLOW_MODULE)
    target = tmp_path / "prefect.yaml"
    target.write_text(
        "name: t\nprefect-version: 3.9.1\ndefinitions:\n  tidy: &tidy\n"
        "    enforce_parameter_schema: true\ndeployments:\n" + deployments_yaml
    )
    return target


def test_valid_file_lists_deployments(tmp_path: Path) -> None:
    """A correct deployment validates and is listed as flow/deployment."""
    path = _project(
        tmp_path,
        "  - name: say-hello\n    <<: *tidy\n    entrypoint: flowsfixture/greet_flow.py:greet\n"
        "    parameters: {loud: true}\n"
        "    schedules:\n      - cron: '0 6 * * *'\n        timezone: UTC\n",
    )
    result = validate_prefect_yaml(path)
    assert result.problems == ()
    assert result.deployments == ("greet/say-hello",)


def test_each_mistake_is_reported(tmp_path: Path) -> None:
    """Duplicate name, unknown parameter, a secret value and a missing flow are all named."""
    path = _project(
        tmp_path,
        "  - name: hi\n    <<: *tidy\n    entrypoint: flowsfixture/greet_flow.py:greet\n"
        "    parameters: {colour: red, api_key: abc}\n"
        "  - name: hi\n    <<: *tidy\n    entrypoint: flowsfixture/greet_flow.py:greet\n"
        "  - name: other\n    <<: *tidy\n    entrypoint: flowsfixture/missing.py:nope\n",
    )
    problems = validate_prefect_yaml(path).problems
    assert any("parameter 'colour' is not accepted by flow 'greet'" in p for p in problems)
    assert any("parameters.api_key looks like a secret value" in p for p in problems)
    assert any("greet/hi is defined twice" in p for p in problems)
    assert any("entrypoint file flowsfixture/missing.py does not exist" in p for p in problems)
    assert len(problems) == 5  # api_key is also not a flow parameter


def test_schedule_parameters_are_checked(tmp_path: Path) -> None:
    """A schedule's own parameters must also be ones the flow accepts."""
    path = _project(
        tmp_path,
        "  - name: nightly\n    <<: *tidy\n    entrypoint: flowsfixture/greet_flow.py:greet\n"
        "    schedules:\n      - cron: '0 2 * * *'\n        parameters: {spec: a, shout: 1}\n",
    )
    assert validate_prefect_yaml(path).problems == (
        "deployments[0] (nightly) schedules[0]: parameter 'shout' is not accepted by flow 'greet'",
    )


def test_deployment_hygiene_is_checked(tmp_path: Path) -> None:
    """A parameter without a description, no enforced schema, no flow-run name, a "default"
    name and a per-deployment concurrency limit are each named (issue 11)."""
    path = _project(
        tmp_path,
        "  - name: default\n    entrypoint: flowsfixture/greet_flow.py:sloppy\n"
        "    concurrency_limit: 1\n",
    )
    problems = " | ".join(validate_prefect_yaml(path).problems)
    assert "parameter 'spec' of flow 'sloppy' has no description" in problems
    assert "set enforce_parameter_schema: true" in problems
    assert "flow 'sloppy' has no flow_run_name" in problems
    assert "name the runbook step, not 'default'" in problems
    assert "no deployment concurrency_limit" in problems
