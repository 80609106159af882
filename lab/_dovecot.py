"""The two lab Dovecots: start/stop by pid, account records, mailbox tweaks."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from lab._accounts import Account, AccountStore
from lab._dovecot_conf import (
    MAIL_GID,
    MAIL_UID,
    DovecotLayout,
    render_auth_deny_conf,
    render_auth_dict_conf,
    render_auth_master_conf,
    render_dovecot_conf,
    render_oauth2_conf,
)
from lab._errors import LabError, ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._process import (
    live_pid,
    run_checked,
    stop_pids,
    tail,
    tcp_open,
    wait_for,
    wait_tcp,
)

__all__ = ["DestinationServer", "DovecotServer", "SourceServer"]

MASTER_USER = "admin"


class DovecotServer:
    """One Dovecot instance (IMAP + LMTP) run with ``dovecot -c <conf>``."""

    def __init__(self, layout: DovecotLayout, *, imap_port: int, lmtp_port: int) -> None:
        self.layout = layout
        self.name = layout.role
        self.host = HOST
        self.imap_port = imap_port
        self.lmtp_port = lmtp_port
        self.store = AccountStore(layout.accounts_dir)

    # -- lifecycle -----------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return live_pid(self.layout.base_dir / "master.pid", str(self.layout.conf))

    def pids(self) -> list[int]:
        pid = self.pid
        return [] if pid is None else [pid]

    def prepare(self) -> None:
        """Write config and account files (idempotent, no process started)."""
        lay = self.layout
        for d in (
            lay.base_dir,
            lay.state_dir,
            lay.conf.parent,
            lay.log.parent,
            lay.accounts_dir.parent,
        ):
            d.mkdir(parents=True, exist_ok=True)
        lay.accounts_dir.parent.chmod(0o755)
        lay.mail_root.mkdir(parents=True, exist_ok=True)
        os.chown(lay.mail_root, MAIL_UID, MAIL_GID)
        self.store.ensure_exists()
        if lay.has_masters:
            if self.store.master_password(MASTER_USER) is None:
                self.store.put_master(MASTER_USER, secrets.token_urlsafe(18))
            lay.auth_master_conf.write_text(render_auth_master_conf(lay))
        lay.auth_dict_conf.write_text(render_auth_dict_conf(lay))
        lay.auth_dict_conf.with_name("auth-deny.conf").write_text(render_auth_deny_conf(lay))
        if lay.role == "source":
            lay.conf.with_name("dovecot-oauth2.conf.ext").write_text(render_oauth2_conf(lay))
        lay.conf.write_text(
            render_dovecot_conf(lay, imap_port=self.imap_port, lmtp_port=self.lmtp_port)
        )

    def launch(self) -> None:
        """Start the daemon unless it already runs; returns before the ports answer."""
        if self.pid is not None:
            return
        self.prepare()
        # A pidfile whose process is gone (or is a zombie not yet reaped) would make Dovecot
        # refuse to start with "already running".
        (self.layout.base_dir / "master.pid").unlink(missing_ok=True)
        run_checked(self.name, ["dovecot", "-c", str(self.layout.conf)], self.layout.log)

    def wait_ready(self, timeout: float = 10.0) -> None:
        for port in (self.imap_port, self.lmtp_port):
            if not wait_tcp(self.host, port, timeout=timeout):
                raise ServerStartError(
                    self.name, f"nothing answers on {self.host}:{port}", log_tail=tail(self.log)
                )
        # The listeners answer before the daemonised master has written master.pid; the
        # lab stops servers by that pid, so it must be known before the server counts as up.
        if not wait_for(lambda: self.pid is not None, timeout=timeout):
            raise ServerStartError(
                self.name,
                "its ports answer but master.pid names no running Dovecot",
                log_tail=tail(self.log),
            )

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        pid = self.pid
        if pid is not None:
            stop_pids([pid])

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def log(self) -> Path:
        return self.layout.log

    def info(self) -> ServerInfo:
        pid = self.pid
        healthy = pid is not None and tcp_open(self.host, self.imap_port)
        return ServerInfo(
            self.name,
            self.host,
            {"imap": self.imap_port, "lmtp": self.lmtp_port},
            pid,
            healthy,
            str(self.log),
        )

    # -- accounts ------------------------------------------------------------------
    def accounts(self) -> dict[str, Account]:
        return self.store.accounts()

    def maildir(self, email: str) -> Path:
        return self.layout.maildir(email)

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm`` against this instance; raise LabError with its output on failure."""
        cmd = ["doveadm", "-c", str(self.layout.conf), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        if proc.returncode != 0:
            raise LabError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def wipe_mail(self, email: str) -> None:
        """Delete a user's whole mail store (used before re-seeding)."""
        shutil.rmtree(self.layout.home(email), ignore_errors=True)


class SourceServer(DovecotServer):
    """The customer's old IMAP server, with a master user for admin logins."""

    @property
    def master_user(self) -> str:
        return MASTER_USER

    @property
    def master_password(self) -> str:
        password = self.stored_master_password()
        if password is None:
            raise LabError("the source has no admin master user yet: run `onboard lab up`")
        return password

    def stored_master_password(self) -> str | None:
        """The admin master user's password, or None before the first ``lab up``."""
        return self.store.master_password(MASTER_USER)

    def add_master_user(self, name: str, password: str) -> None:
        """Add another master user (``user@dom*<name>`` logs in with ``password``, UTF-8).

        One dict record per master user (not a passwd-file, which Dovecot re-reads at most
        once a second): the very next login sees it, even one in the same second.
        """
        self.store.put_master(name, password)

    def master_login(self, email: str) -> str:
        """The login name that authenticates as admin for ``email`` (``user@dom*admin``)."""
        return f"{email}*{MASTER_USER}"

    def add_user(self, email: str, password: str) -> None:
        """Create or update a source user; it logs in at once."""
        self.store.put(Account(email, password))

    def remove_user(self, email: str) -> bool:
        return self.store.remove(email)

    def users(self) -> dict[str, str]:
        """Email -> password of every source user."""
        return {a.email: a.password for a in self.store.accounts().values()}

    def reset_uidvalidity(self, email: str, folder: str, uidvalidity: int | None = None) -> int:
        """Give ``folder`` a new UIDVALIDITY (as after a server rebuild); return the new value.

        ``folder`` is the IMAP name in UTF-8 with the source's ``/`` separator.
        """
        current = self.uidvalidity(email, folder)
        new = uidvalidity if uidvalidity is not None else current + 1 + secrets.randbelow(1000)
        self.doveadm("mailbox", "update", "-u", email, "--uid-validity", str(new), folder)
        return new

    def uidvalidity(self, email: str, folder: str) -> int:
        out = self.doveadm("-f", "flow", "mailbox", "status", "-u", email, "uidvalidity", folder)
        return int(out.strip().split("=", 1)[1])


class DestinationServer(DovecotServer):
    """The hosted mailboxes; the control panel manages accounts through this class."""

    def set_account(
        self,
        email: str,
        password: str,
        *,
        quota_bytes: int | None = None,
        max_message_bytes: int | None = None,
    ) -> None:
        """Create or replace an account; it logs in at once (no reload needed).

        ``quota_bytes`` limits the mailbox size (over-quota APPEND/LMTP get NO [OVERQUOTA]/452),
        ``max_message_bytes`` limits one message (APPEND gets NO [LIMIT]; APPENDLIMIT=<n>
        is advertised in the post-login CAPABILITY).
        """
        self.store.put(Account(email, password, quota_bytes, max_message_bytes))

    def refuse_submission(self, email: str, refused: bool = True) -> None:
        """Turn SMTP AUTH off (or on again) for one account: the submission service then
        refuses its login while IMAP still accepts it (a hosted service's per-mailbox
        "authenticated SMTP" switch)."""
        self.store.deny(email, "smtp", refused)

    def remove_account(self, email: str) -> bool:
        """Remove an account (its mail stays on disk, like a disabled login); True if it existed."""
        return self.store.remove(email)

    def account(self, email: str) -> Account | None:
        return self.store.get(email)
