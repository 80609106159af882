"""Run one engine pass in its own process so a test can SIGKILL it anywhere.

Usage: ``python sync_child.py job.json``. Prints ``tick <messages done>`` on every progress
tick (flushed, so the parent can time its kill) and ``done <json counts>`` at the end. The
state store keeps its default lease: a killed predecessor's lease must not block the re-run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from onboarding.mailsync import (
    Endpoint,
    MailboxPair,
    StateStore,
    SyncOptions,
    SyncProgress,
    sync_mailbox,
)


def main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    pair = MailboxPair(
        mailbox=job["dest_user"],
        source=Endpoint(
            "127.0.0.1", job["source_port"], "none", job["source_login"], job["source_password"]
        ),
        destination=Endpoint(
            "127.0.0.1", job["dest_port"], "none", job["dest_user"], job["dest_password"]
        ),
    )
    state = StateStore(job["state_url"])
    options = SyncOptions(pass_kind="initial", fetch_batch=job["fetch_batch"])

    def tick(p: SyncProgress) -> None:
        sys.stdout.write(f"tick {p.messages_done}\n")
        sys.stdout.flush()

    outcome = sync_mailbox(pair, options, state, progress=tick)
    counts = {
        "copied": outcome.copied,
        "already_present": outcome.already_present,
        "in_scope": outcome.in_scope,
        "failed": outcome.failed,
        "skipped": outcome.skipped,
        "source_duplicates": outcome.source_duplicates,
        "reconciles": outcome.reconciles,
    }
    sys.stdout.write("done " + json.dumps(counts) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
