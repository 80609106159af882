"""Sync state in any SQLAlchemy database: UID maps keyed by UIDVALIDITY, intents, leases.

Three tables, all keyed by the mailbox pair's key (source host/user → destination host/user):

- ``mailsync_message``: one row per source message (folder, UIDVALIDITY, UID) with its
  destination folder, UIDVALIDITY and UID (I9), its identity key (fixed-size, see
  :mod:`.identity`), the SHA-256 of its bytes when they were read, the source flags last
  propagated (unbounded), and ``state``: ``intent`` (written before APPEND), ``done``
  (APPENDUID known or found by identity), ``dup`` (a source-side duplicate of another row)
  (I8), ``pending`` (skipped or failed: every pass retries it);
- ``mailsync_folder``: what the last complete pass saw (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ,
  MESSAGES) and how many of its messages are pending, so an unchanged folder with nothing
  pending is skipped from STATUS alone;
- ``mailsync_lease``: one row per pair while a sync runs, so two syncs of the same pair never
  overlap (I10); a lease that is not renewed expires, so a killed run does not block forever;
- ``mailsync_download``: bytes read from a source account per UTC hour, for the daily byte
  cap that must hold across passes and workers (:mod:`.daily_cap`, issue 10).

Stores written by older versions are upgraded when opened (:func:`_upgrade`): the digest and
pending columns are added and Postgres' bounded ``flags`` becomes ``TEXT``; their rows keep
working as they are.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from onboarding.mailsync._exceptions import StateError, StateLocked
from onboarding.reports import private_file

__all__ = ["FolderKey", "FolderState", "MessageRow", "StateStore"]

_meta = sa.MetaData()


def _folder_table(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A table keyed by the mailbox pair and the source folder, then by ``columns``' keys."""
    return sa.Table(
        name,
        _meta,
        sa.Column("pair_key", sa.String(600), primary_key=True),
        sa.Column("src_folder", sa.String(1000), primary_key=True),
        *columns,
    )


_message = _folder_table(
    "mailsync_message",
    sa.Column("src_uidvalidity", sa.BigInteger, primary_key=True),
    sa.Column("src_uid", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("dst_folder", sa.String(1000), nullable=False),
    sa.Column("dst_uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("dst_uid", sa.BigInteger, nullable=True),
    sa.Column("identity", sa.String(80), nullable=True),
    sa.Column("flags", sa.Text, nullable=False, default=""),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("digest", sa.String(64), nullable=True),
)
_folder = _folder_table(
    "mailsync_folder",
    sa.Column("src_uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("src_uidnext", sa.BigInteger, nullable=False),
    sa.Column("src_modseq", sa.BigInteger, nullable=True),
    sa.Column("src_messages", sa.BigInteger, nullable=False),
    sa.Column("dst_folder", sa.String(1000), nullable=False),
    sa.Column("dst_uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("present", sa.BigInteger, nullable=False),
    sa.Column("dups", sa.BigInteger, nullable=False),
    sa.Column("skipped", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("pending", sa.BigInteger, nullable=False, server_default="0"),
)
_lease = sa.Table(
    "mailsync_lease",
    _meta,
    sa.Column("pair_key", sa.String(600), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

_download = sa.Table(
    "mailsync_download",
    _meta,
    sa.Column("account", sa.String(600), primary_key=True),
    sa.Column("hour", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
)

INTENT, DONE, DUP, PENDING = "intent", "done", "dup", "pending"


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One source message's mapping, as stored; ``digest`` is the SHA-256 of its bytes (None
    when it was matched without reading them, or by an older version)."""

    src_uid: int
    dst_uid: int | None
    identity: str | None
    flags: str
    state: str
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class FolderKey:
    """Which message rows belong together: a folder pair of one mailbox pair, under both
    folders' current UIDVALIDITYs (rows of any other UIDVALIDITY are ignored, I9)."""

    pair_key: str
    src_folder: str
    src_uidvalidity: int
    dst_folder: str
    dst_uidvalidity: int


@dataclass(frozen=True)
class FolderState:
    """What the last pass over one source folder saw and concluded."""

    src_folder: str
    src_uidvalidity: int
    src_uidnext: int
    src_modseq: int | None
    src_messages: int
    dst_folder: str
    dst_uidvalidity: int
    complete: bool
    present: int
    dups: int
    skipped: int
    pending: int = 0  # skipped or failed messages that every pass retries

    def unchanged(
        self, src: Mapping[str, int] | None, dst: Mapping[str, int] | None, dst_folder: str
    ) -> bool:
        """True when both folders' STATUS is what this complete pass saw, so it can be skipped.

        Only with HIGHESTMODSEQ (RFC 7162 CONDSTORE): without it a flag change leaves
        UIDNEXT and MESSAGES as they were and would go unseen. Never while messages are
        pending: a skipped or failed message is retried by every pass (the limit may have
        been raised, the quota freed).
        """
        return (
            self.complete
            and self.pending == 0
            and src is not None
            and dst is not None
            and "HIGHESTMODSEQ" in src
            and self.src_uidvalidity == src.get("UIDVALIDITY")
            and self.src_uidnext == src.get("UIDNEXT")
            and self.src_messages == src.get("MESSAGES")
            and self.src_modseq == src["HIGHESTMODSEQ"]
            and self.dst_folder == dst_folder
            and self.dst_uidvalidity == dst.get("UIDVALIDITY")
        )


def safe_url(url: str) -> str:
    """The URL with its password masked, for logs and reprs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "<unparsable database URL>"


def flags_text(flags: Iterable[str]) -> str:
    """Canonical stored form of a flag set (sorted, space-separated)."""
    return " ".join(sorted(set(flags)))


def _store_error(url: str, exc: SQLAlchemyError, *, doing: str = "") -> StateError:
    """The error naming the store (password masked) and the driver's reason.

    The driver's exception (``exc.orig``), not ``str(exc)``: SQLAlchemy's text appends the
    statement and its bound parameters, which say nothing the operator can act on.
    """
    reason = getattr(exc, "orig", None) or type(exc).__name__
    return StateError(f"{doing}state store {url}: {reason}")


class StateStore:
    """Where a mailbox pair's progress lives between runs (``sqlite:///path`` or any URL)."""

    def __init__(self, url: str, *, lease_seconds: float = 600.0) -> None:
        self.url = safe_url(url)
        self.lease_seconds = lease_seconds
        kwargs: dict[str, object] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
            _private_sqlite_file(url)
        try:
            self._engine = sa.create_engine(url, **kwargs)
            if url.startswith("sqlite"):
                sa.event.listen(self._engine, "connect", _sqlite_pragmas)
            _create_tables(self._engine)
        except SQLAlchemyError as exc:
            raise _store_error(self.url, exc, doing="cannot open ") from exc
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def __repr__(self) -> str:
        return f"StateStore({self.url!r})"

    def dispose(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except StateLocked:
            raise
        except SQLAlchemyError as exc:
            raise _store_error(self.url, exc) from exc

    # -- leases (I10) -------------------------------------------------------------------------

    @contextmanager
    def lease(self, pair_key: str) -> Iterator[None]:
        """Hold the pair's lease for the block; raise StateLocked if another sync holds it."""
        self.acquire(pair_key)
        try:
            yield
        finally:
            self.release(pair_key)

    def acquire(self, pair_key: str) -> None:
        """Take the pair's lease: free, expired, ours, or held by a dead process on this host.

        The last case makes a re-run right after ``kill -9`` proceed at once instead of
        waiting for the lease to expire (the owner string records host and pid).
        """
        now = time.time()
        expires = now + self.lease_seconds
        try:
            with self._engine.begin() as conn:
                res = conn.execute(
                    _lease.update()
                    .where(_lease.c.pair_key == pair_key)
                    .where(sa.or_(_lease.c.expires_at < now, _lease.c.owner == self.owner))
                    .values(owner=self.owner, expires_at=expires)
                )
                if res.rowcount == 1:
                    return
                exists = conn.execute(
                    sa.select(_lease.c.owner).where(_lease.c.pair_key == pair_key)
                ).first()
                if exists is None:
                    conn.execute(
                        _lease.insert().values(
                            pair_key=pair_key, owner=self.owner, expires_at=expires
                        )
                    )
                    return
                if _holder_is_dead(exists[0]):
                    res = conn.execute(
                        _lease.update()
                        .where(_lease.c.pair_key == pair_key, _lease.c.owner == exists[0])
                        .values(owner=self.owner, expires_at=expires)
                    )
                    if res.rowcount == 1:
                        return
        except IntegrityError:
            pass  # another process inserted the row first
        except SQLAlchemyError as exc:
            raise _store_error(self.url, exc) from exc
        raise StateLocked(f"another sync of {pair_key} is running", mailbox=pair_key)

    def renew(self, pair_key: str) -> None:
        """Push the lease expiry forward (called between batches)."""
        with self._tx() as conn:
            conn.execute(
                _lease.update()
                .where(_lease.c.pair_key == pair_key, _lease.c.owner == self.owner)
                .values(expires_at=time.time() + self.lease_seconds)
            )

    def release(self, pair_key: str) -> None:
        with self._tx() as conn:
            conn.execute(
                _lease.delete().where(_lease.c.pair_key == pair_key, _lease.c.owner == self.owner)
            )

    # -- folders ------------------------------------------------------------------------------

    def folder_state(self, pair_key: str, src_folder: str) -> FolderState | None:
        with self._tx() as conn:
            row = conn.execute(
                sa.select(_folder).where(
                    _folder.c.pair_key == pair_key, _folder.c.src_folder == src_folder
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return FolderState(**{k: m[k] for k in FolderState.__dataclass_fields__})

    def folder_states(self, pair_key: str) -> dict[str, FolderState]:
        with self._tx() as conn:
            rows = conn.execute(sa.select(_folder).where(_folder.c.pair_key == pair_key)).all()
        return {
            r._mapping["src_folder"]: FolderState(
                **{k: r._mapping[k] for k in FolderState.__dataclass_fields__}
            )
            for r in rows
        }

    def save_folder_state(self, pair_key: str, fs: FolderState) -> None:
        values = {k: getattr(fs, k) for k in FolderState.__dataclass_fields__}
        values.update(pair_key=pair_key, updated_at=time.time())
        with self._tx() as conn:
            conn.execute(
                _folder.delete().where(
                    _folder.c.pair_key == pair_key, _folder.c.src_folder == fs.src_folder
                )
            )
            conn.execute(_folder.insert().values(**values))

    # -- messages -----------------------------------------------------------------------------

    def messages(self, key: FolderKey) -> dict[int, MessageRow]:
        """Rows valid for these UIDVALIDITYs on both sides (other rows are ignored, I9)."""
        c = _message.c
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(c.src_uid, c.dst_uid, c.identity, c.flags, c.state, c.digest).where(
                    c.pair_key == key.pair_key,
                    c.src_folder == key.src_folder,
                    c.src_uidvalidity == key.src_uidvalidity,
                    c.dst_folder == key.dst_folder,
                    c.dst_uidvalidity == key.dst_uidvalidity,
                )
            ).all()
        return {r[0]: MessageRow(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def destination_copies(
        self, pair_key: str, dst_folder: str, dst_uidvalidity: int
    ) -> tuple[int, set[int]]:
        """How many copies the state knows in a destination folder, from any source folder
        (several map into one when configured), and the UIDs known among them."""
        c = _message.c
        with self._tx() as conn:
            uids = conn.execute(
                sa.select(c.dst_uid).where(
                    c.pair_key == pair_key,
                    c.dst_folder == dst_folder,
                    c.dst_uidvalidity == dst_uidvalidity,
                    c.state == DONE,
                )
            ).all()
        return len(uids), {r[0] for r in uids if r[0] is not None}

    def forget_other_validity(self, pair_key: str, src_folder: str, src_uidvalidity: int) -> int:
        """Drop a folder's rows from an older UIDVALIDITY; return how many (mail is untouched)."""
        c = _message.c
        with self._tx() as conn:
            res = conn.execute(
                _message.delete().where(
                    c.pair_key == pair_key,
                    c.src_folder == src_folder,
                    c.src_uidvalidity != src_uidvalidity,
                )
            )
        return int(res.rowcount or 0)

    def put_messages(self, key: FolderKey, rows: Iterable[MessageRow]) -> None:
        """Insert or replace rows (one transaction: a batch's intents, or its confirmations)."""
        batch = list(rows)
        if not batch:
            return
        c = _message.c
        base = {
            "pair_key": key.pair_key,
            "src_folder": key.src_folder,
            "src_uidvalidity": key.src_uidvalidity,
            "dst_folder": key.dst_folder,
            "dst_uidvalidity": key.dst_uidvalidity,
        }
        with self._tx() as conn:
            uids = [r.src_uid for r in batch]
            for k in range(0, len(uids), 500):
                conn.execute(
                    _message.delete().where(
                        c.pair_key == key.pair_key,
                        c.src_folder == key.src_folder,
                        c.src_uidvalidity == key.src_uidvalidity,
                        c.src_uid.in_(uids[k : k + 500]),
                    )
                )
            conn.execute(
                _message.insert(),
                [
                    {
                        **base,
                        "src_uid": r.src_uid,
                        "dst_uid": r.dst_uid,
                        "identity": r.identity,
                        "flags": r.flags,
                        "state": r.state,
                        "digest": r.digest,
                    }
                    for r in batch
                ],
            )

    # -- bytes read per source account (the daily byte cap) ------------------------------------

    def add_download(self, account: str, hour: int, nbytes: int) -> None:
        """Add ``nbytes`` read from ``account`` in ``hour`` (hours since the epoch, UTC).

        An UPDATE first, else an INSERT; a concurrent first INSERT of the same hour makes
        the loser add to the winner's row instead.
        """
        c = _download.c
        where = (c.account == account) & (c.hour == hour)
        for _ in range(3):
            try:
                with self._tx() as conn:
                    bump = sa.update(_download).where(where).values(bytes=c.bytes + nbytes)
                    if conn.execute(bump).rowcount:
                        return
                    conn.execute(
                        sa.insert(_download).values(account=account, hour=hour, bytes=nbytes)
                    )
                return
            except StateError as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise

    def downloads(self, account: str, since_hour: int) -> list[tuple[int, int]]:
        """``(hour, bytes)`` read from ``account`` since ``since_hour``, oldest first."""
        c = _download.c
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(c.hour, c.bytes)
                .where((c.account == account) & (c.hour >= since_hour))
                .order_by(c.hour)
            ).all()
        return [(int(r[0]), int(r[1])) for r in rows]

    def count_messages(self, pair_key: str) -> dict[str, int]:
        """Rows per state for a pair (for reports and tests)."""
        c = _message.c
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(c.state, sa.func.count()).where(c.pair_key == pair_key).group_by(c.state)
            ).all()
        return {r[0]: int(r[1]) for r in rows}


def _holder_is_dead(owner: str) -> bool:
    """True if ``owner`` (``host:pid:nonce``) names a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child its parent has not reaped yet is a zombie: dead for our purpose
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


_CREATE_DEADLINE_S = 30.0
_CREATE_LOCK = 0x6D61696C73796E63  # "mailsync": the advisory lock key for table creation


def _create_tables(engine: sa.Engine) -> None:
    """Create the tables that are missing; safe when several workers open a new store at once.

    ``CREATE TABLE IF NOT EXISTS`` rather than check-then-create (two workers would both find
    no table, and the second CREATE fails), and SQLite's switch to WAL can answer "database is
    locked" to a concurrent opener at once, without waiting, so that is tried again briefly.
    On Postgres two concurrent ``IF NOT EXISTS`` creates of one table both go ahead (neither
    sees the other's uncommitted table) and one fails ("already exists", a catalog unique
    index), so creators take turns under a transaction-scoped advisory lock.
    """
    deadline = time.monotonic() + _CREATE_DEADLINE_S
    while True:
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CREATE_LOCK})
                for table in _meta.sorted_tables:
                    conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
                _upgrade(conn)
            return
        except OperationalError as exc:
            # "duplicate column": another opener upgraded the same old SQLite store first.
            busy = "database is locked" in str(exc) or "duplicate column" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # another worker holds the lock for a moment


def _upgrade(conn: sa.Connection) -> None:
    """Bring tables created by an older version to the current shape, keeping their rows.

    Before issue 14: no ``digest`` nor ``pending`` column, and on Postgres ``flags`` was
    ``VARCHAR(2000)`` (many keywords overflowed it) and ``identity`` ``VARCHAR(1200)`` (a long
    Message-ID did): flags become ``TEXT``; identities are now 66 characters (they fit the old
    column); an older row's text is never compared, since duplicates are now told by the
    digest of the bytes, which such a row lacks. A folder state from before counted its
    skipped messages but did not keep them: they become pending, so the next pass lists the
    folder and retries them.
    """
    inspector = sa.inspect(conn)
    message = {c["name"]: c for c in inspector.get_columns("mailsync_message")}
    if "digest" not in message:
        conn.execute(sa.text("ALTER TABLE mailsync_message ADD COLUMN digest VARCHAR(64)"))
    if conn.dialect.name == "postgresql" and not isinstance(message["flags"]["type"], sa.Text):
        conn.execute(sa.text("ALTER TABLE mailsync_message ALTER COLUMN flags TYPE TEXT"))
    folder = {c["name"] for c in inspector.get_columns("mailsync_folder")}
    if "pending" not in folder:
        conn.execute(
            sa.text("ALTER TABLE mailsync_folder ADD COLUMN pending BIGINT NOT NULL DEFAULT 0")
        )
        conn.execute(sa.text("UPDATE mailsync_folder SET pending = skipped"))


def _private_sqlite_file(url: str) -> None:
    """Create a SQLite state file readable by its owner only (0600) before SQLite creates it
    with the umask's mode; its -wal/-shm files copy that mode. A missing folder is left for
    SQLite to report (the caller creates it, :func:`onboarding.reports.private_dir`)."""
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():
        with contextlib.suppress(OSError):  # unwritable: SQLite's own error names the reason
            private_file(path)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
