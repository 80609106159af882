"""A PostgreSQL server for the lab: the production migration state store, on 127.0.0.1.

The architecture keeps migration state in Postgres shared by workers; this starts a real one
from the Debian ``postgresql`` package so the state store is tested against it, not only
SQLite. Layout under ``<state_dir>/postgres`` (owned by the ``postgres`` user when run as
root, because PostgreSQL refuses to run as root)::

    data/        the cluster (initdb on first start; its unix socket lives here too)
    server.log   the server's log (its tail is in ServerStartError)
    password     the ``postgres`` role's password (TCP logins use scram-sha-256)

Every parent folder of ``state_dir`` must be reachable (o+x) by the ``postgres`` user, so a
folder under pytest's 0700 ``/tmp/pytest-of-root`` will not do.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from lab._errors import LabError, LabStateError, ServerStartError
from lab._ports import HOST
from lab._process import alive, belongs_to, read_pidfile, run_checked, stop_pids, tail, tcp_open

__all__ = ["PostgresServer"]

_PG_ROOT = Path("/usr/lib/postgresql")
_SERVER = "postgres"
_START_TIMEOUT_S = 60.0


def _bin_dir() -> Path:
    """``/usr/lib/postgresql/<newest version>/bin``; a LabStateError if none is installed."""
    versions = sorted(
        (p for p in _PG_ROOT.glob("*/bin/pg_ctl") if p.parent.parent.name.isdigit()),
        key=lambda p: int(p.parent.parent.name),
    )
    if not versions:
        raise LabStateError(
            f"no PostgreSQL under {_PG_ROOT}: install the Debian package postgresql"
        )
    return versions[-1].parent


class PostgresServer:
    """One PostgreSQL cluster in ``state_dir`` listening on ``127.0.0.1:port``."""

    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.port = port
        self.root = self.state_dir / "postgres"
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._password_file = self.root / "password"
        self._as_root = os.geteuid() == 0

    def __repr__(self) -> str:
        return f"PostgresServer({str(self.state_dir)!r}, port={self.port})"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Initialise the cluster on first use, then start it; nothing to do if it runs."""
        if self.pid() is not None:
            if tcp_open(HOST, self.port):
                return
            self.stop()  # running on another port (constructed with a new one): restart
        self._prepare()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        options = " ".join(
            [
                f"-c listen_addresses={HOST}",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.data}",
                "-c fsync=off",  # a throwaway lab cluster: durability across power loss is moot
                "-c full_page_writes=off",
            ]
        )
        cmd = [str(_bin_dir() / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log)]
        cmd += ["-w", "-t", str(int(_START_TIMEOUT_S)), "-o", options]
        run_checked(_SERVER, self._as_postgres(cmd), self.log, timeout=_START_TIMEOUT_S + 10)
        if self.pid() is None or not tcp_open(HOST, self.port):
            raise ServerStartError(
                _SERVER, f"not listening on {HOST}:{self.port}", log_tail=tail(self.log)
            )

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``, then by pid); harmless if it is not running."""
        pid = self.pid()
        if pid is None:
            return
        cmd = [str(_bin_dir() / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"]
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                self._as_postgres(cmd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
                check=False,
            )
        if alive(pid):  # pg_ctl failed or timed out: the postmaster's pid, then its children
            stop_pids([pid], with_descendants=True)

    def pid(self) -> int | None:
        """The postmaster's pid if this cluster's server runs, else None."""
        pid = read_pidfile(self.data / "postmaster.pid")
        if pid is not None and alive(pid) and belongs_to(pid, str(self.data)):
            return pid
        return None

    # -- databases ----------------------------------------------------------------------------

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3 driver, password included)."""
        password = quote(self._password(), safe="")
        return f"postgresql+psycopg://postgres:{password}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists already."""
        try:
            with psycopg.connect(
                host=HOST,
                port=self.port,
                user="postgres",
                password=self._password(),
                dbname="postgres",
                autocommit=True,
                connect_timeout=10,
            ) as conn:
                found = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                if found is None:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise LabError(
                f"lab postgres on {HOST}:{self.port}: cannot create {name!r}: {exc}"
            ) from exc

    # -- internals ----------------------------------------------------------------------------

    def _as_postgres(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if self._as_root else cmd

    def _password(self) -> str:
        try:
            return self._password_file.read_text().strip()
        except OSError as exc:
            raise LabStateError(
                f"lab postgres: no password at {self._password_file}: start() it first"
            ) from exc

    def _prepare(self) -> None:
        """Create the postgres-owned folder and check the postgres user can reach it."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._password_file.exists():
            self._password_file.write_text(secrets.token_urlsafe(18) + "\n")
            self._password_file.chmod(0o600)
        if not self._as_root:
            return
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise LabStateError(
                "no 'postgres' system user: install the Debian package postgresql"
            ) from exc
        for path in (self.root, self._password_file):
            os.chown(path, pg.pw_uid, pg.pw_gid)
        probe = subprocess.run(
            self._as_postgres(["test", "-w", str(self.root)]), check=False, timeout=10
        )
        if probe.returncode != 0:
            raise LabStateError(
                f"the postgres user cannot reach {self.root}: every parent folder needs o+x "
                "(e.g. a state folder made by tempfile.mkdtemp() and chmod 0o755)"
            )

    def _initdb(self) -> None:
        if self.data.exists():  # a half-made cluster from an interrupted initdb
            shutil.rmtree(self.data)
        cmd = [str(_bin_dir() / "initdb"), "-D", str(self.data), "-U", "postgres"]
        cmd += ["-E", "UTF8", "--locale=C", "--no-sync", f"--pwfile={self._password_file}"]
        cmd += ["--auth-local=peer", "--auth-host=scram-sha-256"]
        run_checked(_SERVER, self._as_postgres(cmd), self.log, timeout=120)
