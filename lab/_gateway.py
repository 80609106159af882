"""The lab mail gateway: a Postfix instance with per-domain routing, delivery hold and
email-account aliases."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab._errors import LabError
from lab._postfix import PostfixServer
from lab._postfix_conf import (
    GatewayLayout,
    check_address,
    check_domain,
    check_nexthop,
    parse_map,
    render_main_cf,
    render_map,
    render_master_cf,
)

__all__ = ["Gateway", "QueuedMessage"]


@dataclass(frozen=True)
class QueuedMessage:
    """One message in the gateway's queue (``postqueue -j``)."""

    queue_id: str
    queue_name: str  # incoming, active, deferred or hold
    sender: str
    recipients: tuple[str, ...]

    def for_domain(self, domain: str) -> bool:
        return any(r.lower().rsplit("@", 1)[-1] == domain for r in self.recipients)


class Gateway(PostfixServer):
    """Postfix on ``smtp_port``: ``set_route`` / ``hold`` / ``release`` per domain,
    ``set_alias`` / ``remove_alias`` per address."""

    name = "gateway"
    port_label = "smtp"

    def __init__(self, layout: GatewayLayout, *, smtp_port: int) -> None:
        super().__init__(layout, listen_port=smtp_port)
        self.smtp_port = smtp_port
        # Other Postfix instances that read the gateway's maps (the submission service):
        # each is reloaded after a map changes, like the gateway itself.
        self.followers: list[Callable[[], None]] = []

    # -- lifecycle -----------------------------------------------------------------
    def prepare(self) -> None:
        super().prepare()
        lay = self.layout
        (lay.etc / "main.cf").write_text(render_main_cf(lay))
        (lay.etc / "master.cf").write_text(render_master_cf(smtp_port=self.smtp_port))
        with self._locked():
            for path in (lay.transport_map, lay.hold_map, lay.alias_map):
                if not path.exists() or not path.with_suffix(".db").exists():
                    self._write_map(path, parse_map(path.read_text()) if path.exists() else {})

    # -- routing and hold ----------------------------------------------------------
    def routes(self) -> dict[str, str]:
        """Domain -> Postfix transport of every routed domain."""
        return self._read_map(self.layout.transport_map)

    def route(self, domain: str) -> str | None:
        return self.routes().get(check_domain(domain))

    def set_route(self, domain: str, nexthop: str) -> None:
        """Relay ``domain`` to ``nexthop`` (``lmtp:inet:127.0.0.1:11024``); applies to new
        deliveries at once, including mail already queued for the domain."""
        domain, nexthop = check_domain(domain), check_nexthop(nexthop)
        self._update(self.layout.transport_map, domain, nexthop)

    def remove_route(self, domain: str) -> None:
        """Stop accepting mail for ``domain`` (SMTP answers 554 Relay access denied)."""
        self._update(self.layout.transport_map, check_domain(domain), None)

    def is_held(self, domain: str) -> bool:
        return check_domain(domain) in self._read_map(self.layout.hold_map)

    def hold(self, domain: str) -> None:
        """Accept ``domain``'s mail but keep it in the hold queue until :meth:`release`.

        Mail already waiting in the queue for the domain is put on hold too, so nothing
        reaches a mailbox while held (a message being delivered right now still finishes).
        """
        domain = check_domain(domain)
        self._update(self.layout.hold_map, domain, "HOLD lab gateway: delivery on hold")
        self._move_all(domain, ("incoming", "active", "deferred"), "-h")

    def release(self, domain: str) -> int:
        """End the hold: new mail flows again and held mail is delivered; return how many
        held messages were released."""
        domain = check_domain(domain)
        self._update(self.layout.hold_map, domain, None)
        released = self._move_all(domain, ("hold",), "-H")
        self.flush()
        return released

    def _move_all(self, domain: str, queues: tuple[str, ...], flag: str) -> int:
        """``postsuper flag`` every message of ``domain`` in ``queues``; return how many.

        The queue manager moves mail between deferred and active while we look, and a daemon
        that read the old HOLD map may still be finishing a message: a single listing can
        miss one, so list again until two listings in a row find none.
        """
        moved = clean = 0
        for _ in range(20):
            ids = [
                m.queue_id for m in self.queue() if m.queue_name in queues and m.for_domain(domain)
            ]
            clean = 0 if ids else clean + 1
            if clean == 2:
                return moved
            self._postsuper(flag, ids)
            moved += len(ids)
        raise LabError(f"mail for {domain} kept arriving in {'/'.join(queues)} (postsuper {flag})")

    # -- aliases -------------------------------------------------------------------------
    def aliases(self) -> dict[str, str]:
        """Alias address -> the account address its mail is delivered to."""
        return self._read_map(self.layout.alias_map)

    def alias(self, address: str) -> str | None:
        return self.aliases().get(check_address(address))

    def set_alias(self, alias: str, target: str) -> None:
        """Deliver mail for ``alias`` (``sales@acme.test``) to ``target`` instead, routed by
        the target's domain; the alias is no mailbox of its own. An alias of a domain without
        a route is still refused at RCPT, like every address there."""
        alias, target = check_address(alias), check_address(target)
        if alias == target:
            raise ValueError(f"alias {alias!r} points to itself; give the account's address")
        self._update(self.layout.alias_map, alias, target)

    def remove_alias(self, alias: str) -> None:
        """Stop rewriting ``alias``: its mail goes to the address itself again (which the
        mail server refuses if no such account exists, so the sender gets a bounce)."""
        self._update(self.layout.alias_map, check_address(alias), None)

    def queue(self) -> list[QueuedMessage]:
        """Every message in the gateway's queues."""
        out = self._run(self._cmd("postqueue", "-j"))
        messages = []
        for line in out.splitlines():
            if not line.strip():
                continue
            data = json.loads(line)
            messages.append(
                QueuedMessage(
                    queue_id=data["queue_id"],
                    queue_name=data["queue_name"],
                    sender=data.get("sender", ""),
                    recipients=tuple(r["address"] for r in data.get("recipients", [])),
                )
            )
        return messages

    def queued(self, domain: str) -> int:
        """How many messages for ``domain`` are in the queue (held, waiting or in delivery)."""
        domain = check_domain(domain)
        return sum(1 for m in self.queue() if m.for_domain(domain))

    def held(self, domain: str) -> int:
        """How many messages for ``domain`` are in the hold queue."""
        domain = check_domain(domain)
        return sum(1 for m in self.queue() if m.queue_name == "hold" and m.for_domain(domain))

    def flush(self) -> None:
        """Ask Postfix to retry every deferred message now (``postqueue -f``)."""
        if self.pid is not None:
            self._run(self._cmd("postqueue", "-f"))

    # -- helpers -------------------------------------------------------------------
    def _cmd(self, program: str, *args: str) -> list[str]:
        return [program, "-c", str(self.layout.etc), *args]

    def _run(self, cmd: list[str], stdin: str | None = None) -> str:
        proc = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, check=False, timeout=30
        )
        if proc.returncode != 0:
            raise LabError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def _postsuper(self, flag: str, ids: list[str]) -> None:
        if ids:
            self._run(self._cmd("postsuper", flag, "-"), stdin="".join(i + "\n" for i in ids))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize map edits between processes (tests, CLI, control panel)."""
        self.layout.etc.mkdir(parents=True, exist_ok=True)
        with open(self.layout.etc / ".maps.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read_map(self, path: Path) -> dict[str, str]:
        try:
            with open(path) as f:
                return parse_map(f.read())
        except FileNotFoundError:
            return {}

    def _update(self, path: Path, key: str, value: str | None) -> None:
        with self._locked():
            entries = self._read_map(path)
            if value is None:
                if entries.pop(key, None) is None:
                    return
            elif entries.get(key) == value:
                return
            else:
                entries[key] = value
            self._write_map(path, entries)
        self.reload()
        for follower in self.followers:
            follower()

    def _write_map(self, path: Path, entries: dict[str, str]) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(render_map(entries))
        os.replace(tmp, path)
        db = path.with_suffix(".db")
        try:
            previous = int(db.stat().st_mtime)
        except FileNotFoundError:
            previous = 0
        self._run(self._cmd("postmap", f"hash:{path}"))
        # Postfix daemons reopen a table whose mtime changed; two edits in one second must
        # still look different.
        stamp = max(int(time.time()), previous + 1)
        os.utime(db, (stamp, stamp))
