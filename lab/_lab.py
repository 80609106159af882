"""The lab: real mail and DNS servers on 127.0.0.1 under one state folder.

``Lab(state_dir)`` works from any process: the first ``up()`` records the ports in
``<state>/lab.json`` and later ``Lab(state_dir)`` objects (the CLI, the control panel) read
them back, so every process drives the same servers. Servers are started in parallel and
stopped by the pids in their own pidfiles, after checking each pid still belongs to this lab.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import stat
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lab._clientconfig import ClientConfigHost
from lab._controlpanel import ControlPanel, controlpanel_available
from lab._dns import DnsServers
from lab._dns_conf import DnsLayout
from lab._dovecot import DestinationServer, SourceServer
from lab._dovecot_conf import SASL_SOCKET, DovecotLayout, oauth_key_dir
from lab._errors import LabStateError
from lab._gateway import Gateway
from lab._idp import IdentityProvider
from lab._info import ServerInfo
from lab._ports import HOST, LabPorts
from lab._postfix_conf import GatewayLayout
from lab._prefect import PrefectServer
from lab._process import stop_pids
from lab._seed import SeedReport, seed_source
from lab._submission import SubmissionServer
from lab.corpus import plan
from lab.gmail_corpus import GMAIL_PROFILE, gmail_plan

__all__ = ["Lab", "LabStatus"]

log = logging.getLogger(__name__)

STATE_FILE = "lab.json"
SEED_RECORD = "corpus.json"
# The hosted account the onboarding notices are sent from (``notices.sender`` in the example
# spec); its password is the stand-in for the Secret block ``mailroute-notices``.
NOTICE_SENDER = "onboarding@mailroute.test"
NOTICE_SECRET_ENV = "ONBOARD_SECRET_MAILROUTE_NOTICES"


class _Server(Protocol):
    def launch(self) -> None: ...

    def wait_ready(self, timeout: float = 10.0) -> None: ...

    def pids(self) -> list[int]: ...


@dataclass(frozen=True)
class LabStatus:
    """Everything another program needs to use a running lab (``lab status --format json``)."""

    state_dir: str
    servers: tuple[ServerInfo, ...]
    source_master_user: str
    source_master_password: str
    source_users: dict[str, str]
    destination_accounts: dict[str, str]
    controlpanel_api_key: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(s.healthy for s in self.servers)

    def server(self, name: str) -> ServerInfo:
        return next(s for s in self.servers if s.name == name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["servers"] = {s.name: asdict(s) for s in self.servers}
        data["healthy"] = self.healthy
        return data


def _world_traversable(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents] if p.exists())


class Lab:
    """One mail lab. ``ports=None`` reuses the ports recorded in the state folder, else defaults."""

    def __init__(self, state_dir: Path | str, ports: LabPorts | None = None) -> None:
        self.state_dir = Path(state_dir).absolute()
        recorded = self._read_state()
        if ports is None:
            ports = LabPorts.from_dict(recorded["ports"]) if recorded else LabPorts()
        self.ports = ports
        self.shared_root = Path(recorded["shared_root"]) if recorded else self._pick_shared_root()
        self.source = SourceServer(
            self._layout("source"), imap_port=ports.source_imap, lmtp_port=ports.source_lmtp
        )
        self.dns = DnsServers(
            DnsLayout(self.state_dir / "dns", self.shared_root / "run" / "nsd.ctl"),
            auth_port=ports.dns_auth,
            resolver_port=ports.dns_resolver,
        )
        self.gateway = Gateway(
            GatewayLayout(self.shared_root / "gateway"), smtp_port=ports.gateway_smtp
        )
        self.controlpanel = ControlPanel(self.state_dir, port=ports.controlpanel)
        self.clientconfig = ClientConfigHost(self.state_dir, port=ports.clientconfig)
        self.idp = IdentityProvider(self.state_dir, port=ports.idp)
        self.destination = DestinationServer(
            self._layout("destination"),
            imap_port=ports.destination_imap,
            lmtp_port=ports.destination_lmtp,
        )
        self.submission = SubmissionServer(
            GatewayLayout(self.shared_root / "submission"),
            port=ports.submission,
            gateway=self.gateway.layout,
            gateway_port=ports.gateway_smtp,
            hosted_lmtp_port=ports.destination_lmtp,
            sasl_socket=self.destination.layout.base_dir / SASL_SOCKET,
        )
        self.gateway.followers.append(self.submission.reload)
        self.prefect = PrefectServer(self.state_dir, port=ports.prefect)

    # -- state ---------------------------------------------------------------------
    def _read_state(self) -> dict[str, Any] | None:
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            if not isinstance(data["ports"], dict) or not isinstance(data["shared_root"], str):
                raise ValueError("unexpected shape")
        except (ValueError, KeyError) as exc:
            raise LabStateError(
                f"{path} is not a lab state file ({exc}); delete the folder and run `lab up` again"
            ) from exc
        return data

    def _write_state(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        data = {"ports": self.ports.to_dict(), "shared_root": str(self.shared_root)}
        tmp = self.state_dir / f"{STATE_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, self.state_dir / STATE_FILE)

    def _pick_shared_root(self) -> Path:
        """Folder for mail and sockets: must be reachable by the mail/postfix users (not root)
        and short (unix socket paths are limited to 107 bytes)."""
        digest = hashlib.sha1(str(self.state_dir).encode()).hexdigest()[:10]
        fallback = Path("/tmp") / f"mailroute-lab-{digest}"
        parent = self.state_dir.parent
        if len(str(self.state_dir)) > 60 or not _world_traversable(parent):
            return fallback
        return self.state_dir

    def _layout(self, role: str) -> DovecotLayout:
        base = self.state_dir / role
        shared = self.shared_root / role  # read by Dovecot's unprivileged auth process
        return DovecotLayout(
            role="source" if role == "source" else "destination",
            conf=base / "dovecot.conf",
            base_dir=self.shared_root / "run" / role,
            state_dir=base / "state",
            log=base / "dovecot.log",
            accounts_dir=shared / "accounts",
            auth_dict_conf=base / "auth-dict.conf",
            has_masters=role == "source",
            mail_root=self.shared_root / "mail" / role,
        )

    # -- lifecycle -----------------------------------------------------------------
    def up(self, *, prefect: bool = False) -> LabStatus:
        """Start every server that is not running (idempotent); return the status.

        ``prefect`` also starts the lab's long-lived Prefect server (``onboard lab up`` does;
        the test session's lab does not, its flows report to the session's own server).
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.shared_root.mkdir(parents=True, exist_ok=True)
        for d in (self.state_dir, self.shared_root):
            d.chmod(d.stat().st_mode | 0o755)
        self._write_state()
        (self.shared_root / "run").mkdir(parents=True, exist_ok=True)
        self.idp.prepare(oauth_key_dir(self.source.layout))  # before the source reads the key
        servers = list(self._servers().values())
        if not prefect:
            servers.remove(self.prefect)
        # In parallel: Postfix's master alone can take a second or two to come up.
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            for future in [pool.submit(server.launch) for server in servers]:
                future.result()
        for server in servers:
            server.wait_ready()
        if self.destination.account(NOTICE_SENDER) is None:
            self.destination.set_account(NOTICE_SENDER, secrets.token_urlsafe(18))
        return self.status()

    def down(self) -> None:
        """Stop exactly the processes this lab started; harmless if nothing runs."""
        pids = [pid for server in self._servers().values() for pid in server.pids()]
        stop_pids(pids, with_descendants=True)
        self.controlpanel.reap()
        self.clientconfig.reap()
        self.idp.reap()
        self.prefect.reap()

    def restart(self, name: str) -> None:
        """Restart one server by name: ``source``, ``destination``, ``dns``, ..."""
        servers = self._servers()
        if name not in servers:
            raise ValueError(f"unknown lab server {name!r}; expected one of {sorted(servers)}")
        server = servers[name]
        stop_pids(server.pids(), with_descendants=True)
        server.launch()
        server.wait_ready()

    def _servers(self) -> dict[str, _Server]:
        servers: dict[str, _Server] = {
            "source": self.source,
            "destination": self.destination,
            "dns": self.dns,
            "gateway": self.gateway,
            "clientconfig": self.clientconfig,
            "idp": self.idp,
            "submission": self.submission,
            "prefect": self.prefect,
        }
        if controlpanel_available():
            servers["controlpanel"] = self.controlpanel
        return servers

    def status(self) -> LabStatus:
        infos = (
            self.source.info(),
            self.destination.info(),
            self.gateway.info(),
            self.submission.info(),
            *self.dns.info(),
            self.clientconfig.info(),
            self.idp.info(),
        )
        if controlpanel_available():
            infos = (*infos, self.controlpanel.info())
        if self.prefect.started_once:
            infos = (*infos, self.prefect.info())
        master = self.source.stored_master_password() or ""
        return LabStatus(
            state_dir=str(self.state_dir),
            servers=infos,
            source_master_user=self.source.master_user,
            source_master_password=master,
            source_users=self.source.users(),
            destination_accounts={
                a.email: a.password for a in self.destination.accounts().values()
            },
            controlpanel_api_key=self.controlpanel.api_key(),
            env=self.secret_env(),
        )

    def seed(self, profile: str = "small", users: Sequence[str] | None = None) -> SeedReport:
        """Fill source mailboxes with the deterministic corpus (``lab.corpus``); see
        :class:`SeedReport` for the per-user, per-folder counts a migration must reproduce."""
        corpus = gmail_plan(users) if profile == GMAIL_PROFILE else plan(profile, users)
        return seed_source(self.source, corpus, self.state_dir / SEED_RECORD)

    def seeded(self) -> SeedReport | None:
        """The last seed of this lab (from any process), or None."""
        try:
            data = json.loads((self.state_dir / SEED_RECORD).read_text())
        except FileNotFoundError:
            return None
        return SeedReport(data["profile"], data["seed"], data["counts"], data["passwords"])

    def secret_env(self) -> dict[str, str]:
        """Environment variables that stand in for the lab's Prefect Secret blocks."""
        env: dict[str, str] = {}
        master = self.source.stored_master_password()
        if master is not None:
            env["ONBOARD_SECRET_ACME_SOURCE_MASTER"] = master
        api_key = self.controlpanel.api_key()
        if api_key is not None:
            env["ONBOARD_SECRET_MAILROUTE_API_KEY"] = api_key
        sender = self.destination.account(NOTICE_SENDER)
        if sender is not None:
            env[NOTICE_SECRET_ENV] = sender.password
        env.update(self.idp.secret_env())
        return env

    @property
    def host(self) -> str:
        return HOST
