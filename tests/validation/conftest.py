"""The example customer spec for validation tests, with and without a migration."""

from __future__ import annotations

from pathlib import Path

import pytest

from validation.spec import MigrationSettings, OnboardingSpec, load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme" / "customer.yaml"


@pytest.fixture(scope="module")
def spec() -> OnboardingSpec:
    """The example customer: domains acme.test and acme-mail.test, migration with master login."""
    return load_spec(EXAMPLE)


@pytest.fixture(scope="module")
def no_migration(spec: OnboardingSpec) -> OnboardingSpec:
    """The example customer without a migration (no source columns allowed)."""
    return spec.model_copy(update={"migration": MigrationSettings()})
