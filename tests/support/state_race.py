"""Open one state store from many threads at the same moment, as parallel mailbox syncs do."""

from __future__ import annotations

import threading

from onboarding.mailsync import StateError, StateStore


def open_at_once(url: str, workers: int) -> list[StateError]:
    """Open (and dispose) a store at ``url`` from ``workers`` threads released together by a
    barrier; return the errors, which must be none (table creation and the WAL switch race)."""
    barrier = threading.Barrier(workers)
    errors: list[StateError] = []

    def open_store() -> None:
        barrier.wait()
        try:
            StateStore(url).dispose()
        except StateError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
