"""Every flow's result is a typed model, and the JSON contract of ``--format json`` is checked
in: ``docs/flow-results.schema.json`` is exactly what the models say (drift fails here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.results import RESULT_MODELS, FlowResult, ProvisionResult, json_schema

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "flow-results.schema.json"


def test_checked_in_schema_matches_the_models() -> None:
    """Regenerate docs/flow-results.schema.json (see flows/results.py) when a model changes."""
    assert SCHEMA.read_text(encoding="utf-8") == json_schema(), (
        'docs/flow-results.schema.json is stale: run uv run python -c "from flows.results '
        "import json_schema; open('docs/flow-results.schema.json','w').write(json_schema())\""
    )


@pytest.mark.parametrize("model", RESULT_MODELS, ids=lambda m: m.__name__)
def test_every_result_has_ok_and_forbids_unknown_keys(model: type[FlowResult]) -> None:
    """Each model's JSON has ``ok``; a report key the model does not know is an error."""
    schema = model.model_json_schema(mode="serialization", by_alias=True)
    assert "ok" in schema["properties"] and "ok" in schema.get("required", [])
    assert schema.get("additionalProperties") is False


def test_sections_of_steps_that_did_not_run_are_left_out() -> None:
    """A self-service provisioning has no accounts or aliases keys at all (not nulls)."""
    data = ProvisionResult(ok=True, setup=(), conflicts=0).to_json()
    assert set(data) == {"ok", "message", "run_folder", "setup", "conflicts"}
    assert json.loads(json.dumps(data)) == data


def test_results_of_flows_that_reach_the_source_name_the_specs_warnings() -> None:
    """migrate, preflight and cutover results carry ``tls_verify: false`` (and any other
    spec warning) in ``warnings`` and at the end of their message; none: unchanged."""
    from flows.results import CutoverResult, MigrateResult, PreflightResult, WarnedResult

    assert all(issubclass(m, WarnedResult) for m in (CutoverResult, MigrateResult, PreflightResult))
    result = PreflightResult.of("acme", [], 4, "runs/x")
    warned = result.warned(("migration.source.tls_verify is false: ...",))
    assert warned.warnings == ("migration.source.tls_verify is false: ...",)
    assert warned.message.endswith("; warning: migration.source.tls_verify is false: ...")
    assert warned.to_json()["warnings"] == ["migration.source.tls_verify is false: ..."]
    assert result.warned(()) is result
