"""I1/I2/I8 under crashes: the sync is SIGKILLed at random points and re-run after each kill;
in the end every source message is in the destination exactly once, with its flags and
INTERNALDATE, and one more run copies nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from support.mail import connect, fill, snapshot

from lab import Lab, LabUsers

CHILD = Path(__file__).with_name("sync_child.py")
KILLS = 12


class _Child:
    """The engine in a subprocess, with its stdout lines collected by a reader thread."""

    def __init__(self, job: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(job)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.ticked = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())
            if line.startswith("tick") and int(line.split()[1]) > 0:
                self.ticked.set()

    def kill(self) -> bool:
        """SIGKILL now; True if the child was still running (a real mid-sync kill)."""
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self._reader.join(10)
        return alive

    def finish(self) -> dict[str, Any]:
        self.proc.wait(300)
        self._reader.join(10)
        assert self.proc.returncode == 0, self.proc.stderr.read() if self.proc.stderr else ""
        done = [line for line in self.lines if line.startswith("done ")]
        assert done, self.lines[-5:]
        result: dict[str, Any] = json.loads(done[-1].removeprefix("done "))
        return result


def _canonical(snap: dict[str, list[Any]]) -> dict[str, Counter[tuple[str, frozenset[bytes], str]]]:
    return {
        folder.replace("/", "."): Counter(
            (m.sha256, m.flags, m.internaldate.isoformat()) for m in msgs
        )
        for folder, msgs in snap.items()
        if msgs
    }


def test_sigkill_at_random_points_then_rerun_no_duplicate_nothing_missing(
    lab: Lab, lab_users: LabUsers, tmp_path: Path
) -> None:
    """≥10 SIGKILLs at random moments (during login/listing and mid-batch), each followed by a
    re-run: the destination ends equal to the source, message for message."""
    user = lab_users.new()
    with connect("127.0.0.1", lab.ports.source_imap, user.email, user.source_password) as c:
        total = fill(
            c, {"INBOX": 3000, "Archive/2023": 1500, "Sent": 500}, big={"INBOX": 2_000_000}, seed=7
        )
        source = snapshot(c)
    job = tmp_path / "job.json"
    job.write_text(
        json.dumps(
            {
                "source_port": lab.ports.source_imap,
                "source_login": lab.source.master_login(user.email),
                "source_password": lab.source.master_password,
                "dest_port": lab.ports.destination_imap,
                "dest_user": user.email,
                "dest_password": user.destination_password,
                "state_url": f"sqlite:///{tmp_path / 'state.db'}",
                "fetch_batch": 100,
            }
        )
    )
    rng = random.Random(20261127)
    kills: list[str] = []
    for attempt in range(40):
        if len(kills) >= KILLS:
            break
        child = _Child(job)
        if attempt % 4 == 3:  # anywhere: login, LIST, STATUS, state reads
            time.sleep(rng.uniform(0.05, 1.2))
            where = "early"
        else:  # mid-copy: after the first batch was appended
            if not child.ticked.wait(60):
                child.kill()
                continue
            time.sleep(rng.uniform(0.0, 0.4))
            where = "mid-copy"
        if child.kill():
            kills.append(where)
    assert len(kills) >= 10, f"only {len(kills)} kills landed before the sync finished: {kills}"
    assert "mid-copy" in kills and "early" in kills

    final = _Child(job).finish()
    assert final["failed"] == 0 and final["reconciles"], final
    assert final["copied"] + final["already_present"] + final["source_duplicates"] == total

    with connect(
        "127.0.0.1", lab.ports.destination_imap, user.email, user.destination_password
    ) as c:
        dest = snapshot(c)
    want, got = _canonical(source), _canonical(dest)
    for folder, messages in want.items():
        assert got.get(folder) == messages, (
            f"{folder}: missing {sum((messages - got.get(folder, Counter())).values())}, "
            f"duplicated/extra {sum((got.get(folder, Counter()) - messages).values())}"
        )

    again = _Child(job).finish()
    assert again["copied"] == 0, "a run after completion must copy nothing (I1)"
