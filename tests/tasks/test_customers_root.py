"""A UI run names its customer by slug under the customers root (a Prefect Variable, or
ONBOARD_CUSTOMERS_ROOT); a wrong slug says which root was searched and who is there."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.variables import Variable

from flows.results import result_of
from flows.validate_users import validate_users
from tasks.customers_root import ROOT_ENV, ROOT_VARIABLE

pytestmark = pytest.mark.usefixtures("prefect_server")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A customers root holding ``acme`` (the example), set as the Prefect Variable."""
    monkeypatch.delenv(ROOT_ENV, raising=False)
    shutil.copytree(EXAMPLE, tmp_path / "customers" / "acme")
    (tmp_path / "customers" / "not-a-customer").mkdir()
    Variable.set(ROOT_VARIABLE, str(tmp_path / "customers"), overwrite=True)
    try:
        yield tmp_path / "customers"
    finally:
        Variable.unset(ROOT_VARIABLE)


def _run_name(state: object) -> str:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id).name  # type: ignore[attr-defined]


def test_a_slug_finds_the_customer_under_the_root_and_names_the_run(root: Path) -> None:
    """``acme`` runs the customer in ``<root>/acme/customer.yaml``; the run is named for the
    customer and phase."""
    state = validate_users(spec_path=Path("acme"), return_state=True)
    assert state.is_completed(), state.message
    assert _run_name(state) == "acme · validate users"


def test_a_wrong_slug_names_the_root_and_the_customers_there(root: Path) -> None:
    """One sentence: the root searched and the customers in it (no "no such file")."""
    state = validate_users(spec_path=Path("acme-typo"), return_state=True)
    error = str(result_of(state))
    assert state.is_failed()
    assert f"the customers root {root} has no acme-typo/customer.yaml" in error, error
    assert error.endswith("customers there: acme"), error
    assert "no such file" not in error.lower()


def test_the_environment_root_wins_and_a_path_needs_no_root(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ONBOARD_CUSTOMERS_ROOT overrides the Variable (per worker); a spec path is used as
    given."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(other))
    error = str(result_of(validate_users(spec_path=Path("acme"), return_state=True)))
    assert f"the customers root {other} has no acme/customer.yaml" in error, error
    assert "customers there: none" in error
    by_path = validate_users(spec_path=root / "acme" / "customer.yaml", return_state=True)
    assert by_path.is_completed(), by_path.message
