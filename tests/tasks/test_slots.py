"""Concurrency slots (tasks.slots) on the session's temporary Prefect server: an expired
lease of a run that is gone is reaped, and a wait for a taken slot is bounded and says who
holds it."""

from __future__ import annotations

import secrets
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.server.concurrency.lease_storage import filesystem
from prefect.utilities.asyncutils import run_coro_as_sync

from tasks.slots import SlotWaitTimeout, held, slots

pytestmark = pytest.mark.usefixtures("prefect_server")


def _limit() -> str:
    name = f"t-slots-{secrets.token_hex(4)}"
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, 1)
    return name


def _take(name: str) -> UUID:
    """Take the slot as another process would (a holder that never renews nor releases)."""
    holder = ConcurrencyLeaseHolder(type="task_run", id=uuid4())
    with get_client(sync_client=True) as client:
        response = client.increment_concurrency_slots_with_lease(
            [name], 1, "concurrency", 60, holder
        )
    return UUID(response.json()["lease_id"])


def _active(name: str) -> int:
    with get_client(sync_client=True) as client:
        return int(client.read_global_concurrency_limit_by_name(name).active_slots)


def test_an_expired_lease_of_a_gone_run_is_reaped_before_waiting() -> None:
    """The slot is held by a lease nobody renews any more (its expiry passed): the next
    holder releases it through the API and gets the slot at once; on leaving, the slot is
    free again."""
    name = _limit()
    lease = _take(name)
    storage = filesystem.ConcurrencyLeaseStorage()
    run_coro_as_sync(storage.renew_lease(lease, timedelta(seconds=-1)))  # its run is gone
    with slots([name], what="test", wait_seconds=5):
        assert _active(name) == 1 and len(held()) == 1
    assert _active(name) == 0 and held() == {}


def test_waiting_for_a_taken_slot_is_bounded_and_names_the_holder() -> None:
    """A live holder keeps the slot: the wait says what it waits for and since when, and
    ends after ``wait_seconds`` with the same words instead of waiting forever."""
    name = _limit()
    _take(name)
    heard: list[str] = []
    with (
        pytest.raises(SlotWaitTimeout, match="no test slot came free within 1 s") as caught,
        slots([name], what="test", wait_seconds=1, say=heard.append),
    ):
        pytest.fail("got a slot that was taken")
    assert heard and heard[0].startswith("waiting for a test slot held by ")
    assert "task run" in heard[0] and "since" in heard[0]
    assert "held by" in str(caught.value)
