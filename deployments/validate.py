"""Check prefect.yaml before anyone runs ``prefect deploy``: a pure validator with one result.

What it checks, each a mistake that otherwise surfaces only when ops press "Run":
- the file parses with Prefect's own prefect.yaml model;
- deployment names are unique per flow;
- each entrypoint (``flows/x.py:fn``) imports and names a Prefect flow;
- parameters are ones the flow accepts (required ones left out are asked for by the UI's run
  form, which is how ops name the customer spec);
- no parameter or job variable holds a secret (flows take Secret-block names, never values);
- schedules parse;
- hygiene (issue 11): every flow parameter has a description (the flow docstring's ``Args:``,
  which Prefect puts in the UI's run form), ``enforce_parameter_schema: true``, a flow-run
  name (``flow_run_name``: customer and phase), a deployment name that says the runbook step
  (never ``default``), and no deployment ``concurrency_limit`` (concurrency is per customer,
  taken by the flows, so many customers run at once).

``validate_prefect_yaml(path)`` never raises for content problems; it returns them.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prefect.cli.deploy._models import PrefectYamlModel
from prefect.flows import Flow
from prefect.utilities.callables import parameter_schema
from pydantic import ValidationError

__all__ = ["DeploymentProblems", "load_flow", "validate_prefect_yaml"]

_SECRET_KEY = re.compile(r"(password|passwd|api_?key|token|secret)$", re.IGNORECASE)
_SECRET_NAME_SUFFIX = "_secret"


@dataclass(frozen=True)
class DeploymentProblems:
    """The outcome of validating one prefect.yaml: ``valid`` when ``problems`` is empty."""

    path: Path
    deployments: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return not self.problems


def load_flow(entrypoint: str, root: Path) -> Flow[Any, Any]:
    """Import ``path/to/file.py:function`` relative to ``root`` and return the flow object."""
    file_part, _, attr = entrypoint.partition(":")
    if not attr:
        raise ValueError(f"entrypoint {entrypoint!r} must look like flows/file.py:function")
    path = (root / file_part).resolve()
    if not path.is_file():
        raise ValueError(f"entrypoint file {file_part} does not exist")
    module_name = ".".join(path.relative_to(root.resolve()).with_suffix("").parts)
    if str(root.resolve()) not in sys.path:
        sys.path.insert(0, str(root.resolve()))
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot import {file_part}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    obj = getattr(module, attr, None)
    if not isinstance(obj, Flow):
        raise ValueError(f"{entrypoint} is not a Prefect flow")
    return obj


def _secret_paths(node: Any, where: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}"
            name = str(key)
            if _SECRET_KEY.search(name) and not name.endswith(_SECRET_NAME_SUFFIX):
                found.append(here)
            found.extend(_secret_paths(value, here))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_secret_paths(value, f"{where}[{i}]"))
    elif isinstance(node, str) and "{{ prefect.blocks.secret." in node:
        found.append(where)
    return found


def _check_parameters(label: str, flow: Flow[Any, Any], parameters: dict[str, Any]) -> list[str]:
    accepted = set(inspect.signature(flow.fn).parameters)
    return [
        f"{label}: parameter {name!r} is not accepted by flow {flow.name!r}"
        for name in sorted(set(parameters) - accepted)
    ]


def _check_hygiene(label: str, flow: Flow[Any, Any], deployment: Any) -> list[str]:
    problems: list[str] = []
    schema = parameter_schema(flow.fn).model_dump()["properties"]
    problems += [
        f"{label}: parameter {name!r} of flow {flow.name!r} has no description (add it to "
        "the flow docstring's Args: section)"
        for name, prop in schema.items()
        if not prop.get("description")
    ]
    if deployment.enforce_parameter_schema is not True:
        problems.append(f"{label}: set enforce_parameter_schema: true")
    if flow.flow_run_name is None:
        problems.append(f"{label}: flow {flow.name!r} has no flow_run_name (customer and phase)")
    if deployment.name == "default":
        problems.append(f"{label}: name the runbook step, not 'default'")
    if deployment.concurrency_limit is not None:
        problems.append(
            f"{label}: no deployment concurrency_limit; the flows take per-customer limits"
        )
    return problems


def validate_prefect_yaml(path: Path) -> DeploymentProblems:
    """Validate ``path`` (a prefect.yaml) against the flows it names; return every problem."""
    root = path.parent
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        model = PrefectYamlModel.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        return DeploymentProblems(path=path, problems=(f"{path}: unreadable: {exc}",))
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    labels: list[str] = []
    for i, deployment in enumerate(model.deployments):
        label = f"deployments[{i}] ({deployment.name})"
        if not deployment.name or not deployment.entrypoint:
            problems.append(f"{label}: needs both name and entrypoint")
            continue
        try:
            flow = load_flow(deployment.entrypoint, root)
        except (ValueError, ImportError) as exc:
            problems.append(f"{label}: {exc}")
            continue
        key = (flow.name, deployment.name)
        if key in seen:
            problems.append(f"{label}: {flow.name}/{deployment.name} is defined twice")
        seen.add(key)
        labels.append(f"{flow.name}/{deployment.name}")
        problems.extend(_check_parameters(label, flow, deployment.parameters))
        problems.extend(_check_hygiene(label, flow, deployment))
        for j, schedule in enumerate(deployment.schedules or []):
            extra = getattr(schedule, "parameters", None) or {}
            problems.extend(_check_parameters(f"{label} schedules[{j}]", flow, extra))
        problems.extend(
            f"{label}: {where} looks like a secret value; pass a Secret-block name instead"
            for where in _secret_paths(deployment.parameters, "parameters")
            + _secret_paths(
                deployment.work_pool.job_variables if deployment.work_pool else {},
                "work_pool.job_variables",
            )
        )
    return DeploymentProblems(path=path, deployments=tuple(labels), problems=tuple(problems))
