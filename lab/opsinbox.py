"""The lab's ops inbox: where Prefect automations' notices arrive (a webhook receiver).

Production points the automations (``python -m deployments --automations``) at the team's
Slack, Teams or webhook block; the lab points a ``custom-webhook`` block at this receiver on
127.0.0.1. Every POST body (the block sends JSON ``{"subject", "body", "source"}``) is appended
as one line to ``<state_dir>/ops-inbox.jsonl``, which :meth:`OpsInbox.messages` reads::

    uv run python -m lab.opsinbox --state-dir .lab --port 18083
    uv run python -m deployments --automations --notify-webhook http://127.0.0.1:18083/
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["OpsInbox"]

_MAX_BODY = 1 << 20


class OpsInbox:
    """A webhook receiver on ``127.0.0.1:port`` appending each notice to ``path``."""

    def __init__(self, state_dir: Path, port: int = 0) -> None:
        self.path = Path(state_dir) / "ops-inbox.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        inbox = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
                inbox.receive(self.rfile.read(size))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # the inbox file is the record

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread: threading.Thread | None = None

    def receive(self, raw: bytes) -> None:
        """Append one notice (JSON if it parses, else its text) as one line."""
        try:
            notice: Any = json.loads(raw)
        except ValueError:
            notice = {"body": raw.decode("utf-8", "replace")}
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(notice, ensure_ascii=False) + "\n")

    def messages(self) -> list[dict[str, Any]]:
        """Every notice received so far, oldest first."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def start(self) -> OpsInbox:
        """Serve in a daemon thread (tests); :meth:`stop` ends it."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``python -m lab.opsinbox``)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.opsinbox", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=Path(".lab"))
    parser.add_argument("--port", type=int, default=18083)
    args = parser.parse_args()
    inbox = OpsInbox(args.state_dir, args.port)
    print(f"ops inbox on {inbox.url}, notices in {inbox.path}", flush=True)
    inbox.serve_forever()


if __name__ == "__main__":
    main()
