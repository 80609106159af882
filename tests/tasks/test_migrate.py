"""The migrate tasks: only transient engine errors are retried, and the task that touches
passwords keeps no result and no cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed
from support.modes import mode, open_umask

from onboarding.mailsync import AuthFailed, ConnectionLost, StateLocked
from tasks.migrate import _open_state, is_transient, sync_mailbox_task


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (ConnectionLost("dropped"), True),
        (StateLocked("held"), True),
        (AuthFailed("bad password"), False),
        (ValueError("bug"), False),
    ],
)
def test_only_transient_errors_are_retried(error: Exception, retry: bool) -> None:
    """retry_condition_fn: network/lease errors retry, a wrong password does not."""
    state = Failed(data=error)
    assert is_transient(sync_mailbox_task, None, state) is retry  # type: ignore[arg-type]
    assert is_transient(sync_mailbox_task, None, Completed()) is False  # type: ignore[arg-type]


def test_sync_task_keeps_no_result_and_no_cache() -> None:
    """The task touching passwords persists nothing and has no cache key; its name is safe."""
    assert sync_mailbox_task.persist_result is False
    assert sync_mailbox_task.cache_policy is NO_CACHE
    assert sync_mailbox_task.task_run_name == "sync {job.mailbox}"
    assert sync_mailbox_task.retry_condition_fn is is_transient


def test_the_default_state_folder_is_created_private(tmp_path: Path) -> None:
    """Rule: the task opening a SQLite state store creates its folders 0700 (the engine makes
    the file 0600)."""
    db = tmp_path / "runs" / "acme" / "mailsync-state.db"
    with open_umask():
        _open_state(f"sqlite:///{db}").dispose()
    assert mode(db) == 0o600 and mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700
