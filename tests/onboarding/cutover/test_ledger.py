"""The cutover ledger file and the MX TTL the DNS plans noted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.modes import mode, open_umask

from onboarding.cutover import (
    Ledger,
    LedgerError,
    ledger_path,
    load_ledger,
    noted_mx_ttls,
    save_ledger,
)

T0 = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def test_round_trip_and_a_started_cutover_keeps_its_id(tmp_path: Path) -> None:
    """A missing ledger loads as empty; a saved ledger loads back equal, and starting an already
    started cutover keeps its first id and start time."""
    path = ledger_path(tmp_path, "acme")
    assert load_ledger(path) == Ledger()
    ledger = Ledger(dns_published_at={"a.test": T0}).started(T0)
    save_ledger(path, ledger)
    again = load_ledger(path).started(datetime(2030, 1, 1, tzinfo=UTC)).completed(T0)
    assert again.cutover_id == "20261127T040000Z" and again.started_at == T0
    assert again.dns_published_at == {"a.test": T0} and again.completed_at == T0


def test_a_corrupt_ledger_says_which_file_and_what_to_do(tmp_path: Path) -> None:
    """An unreadable ledger raises LedgerError naming cutover-ledger.json and telling the operator
    to delete it."""
    path = ledger_path(tmp_path, "acme")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(LedgerError, match=r"cutover-ledger\.json.*delete"):
        load_ledger(path)


def test_noted_ttl_is_the_largest_of_every_plan(tmp_path: Path) -> None:
    """The plan before the change noted the old, longer TTL; a later plan must not shrink it."""
    for stamp, ttl in (("20261127T010000Z", 1800), ("20261127T020000Z", 300)):
        folder = tmp_path / "acme" / f"{stamp}-dns-plan"
        folder.mkdir(parents=True)
        data = {"domains": [{"domain": "a.test", "mx_ttl": ttl}, {"domain": "b.test"}]}
        (folder / "dns-plan.json").write_text(json.dumps(data))
    (tmp_path / "acme" / "20261127T030000Z-dns-plan").mkdir()
    (tmp_path / "acme" / "20261127T030000Z-dns-plan" / "dns-plan.json").write_text("oops")
    assert noted_mx_ttls(tmp_path, "acme") == {"a.test": 1800}


def test_a_missing_ledger_is_fine_before_the_cutover_only(tmp_path: Path) -> None:
    """Before any domain is held or routed, no ledger is an empty one; after, it is refused
    (starting over would forget the DNS change time and give the cutover a second id)."""
    from onboarding.cutover import LedgerMissing, require_ledger

    path = ledger_path(tmp_path, "acme")
    assert require_ledger(path, started=()) == Ledger()
    with pytest.raises(LedgerMissing, match=r"cutover-ledger\.json.*a\.test held or routed"):
        require_ledger(path, started=("a.test",))
    save_ledger(path, Ledger().started(T0))
    assert require_ledger(path, started=("a.test",)).cutover_id == "20261127T040000Z"


def test_the_ledger_file_and_its_folder_are_private(tmp_path: Path) -> None:
    """Rule: the cutover ledger (what was held and switched, and when) is 0600 in a 0700
    folder, however often it is rewritten."""
    path = tmp_path / "acme" / "cutover-ledger.json"
    with open_umask():
        save_ledger(path, Ledger())
        save_ledger(path, Ledger())
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
