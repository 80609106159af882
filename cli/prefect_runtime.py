"""Run Prefect flows from an ``onboard`` command quietly: clean output, no shutdown tracebacks.

Every command that runs a flow hands :func:`run_flow` a function that imports its flow module
and calls it; the import happens *inside* :func:`prefect_runtime`::

    def start() -> State:
        from flows.verify import verify

        return verify(spec_path=spec.resolve(), return_state=True)

    result = run_flow(start, out, VerifyResult)  # exits 2 with one sentence when unusable

What it does, and why:

- **Which API.** When a Prefect API is configured (``PREFECT_API_URL`` or the active profile,
  e.g. a team server, or the test session's server), runs report there. Otherwise, when the
  lab (``ONBOARD_LAB_STATE_DIR``, default ``.lab``) runs its long-lived Prefect server
  (``onboard lab up``), runs report there: no start-up cost, and history, artifacts and
  Secret blocks (the DKIM keys) stay on one server. Otherwise it notes so in one line on
  stderr and starts
  Prefect's temporary local server itself (SQLite under ``PREFECT_HOME``, so run history and
  artifact versions persist between commands) instead of letting Prefect start one lazily
  and stop it from an ``atexit`` hook. Owning the server lets it stop in the right order:
  first wait until every queued log line and event has reached the server, then stop it.
  The lazy ``atexit`` order can stop the server while logs are still in flight, which is
  where the "connection refused" tracebacks at exit come from.
- **Quiet console.** Prefect's console handlers are muted for the block: the command prints
  its own report, and flow-run logs (including a failed run's traceback) still go to the
  API, where the UI shows them. Telemetry is off (its failures print tracebacks offline).
  The temporary server's own stderr is quiet too.
- **Fail clearly.** A configured API that does not answer raises
  :class:`PrefectUnavailableError` with one sentence, before any flow starts.
- **Leases that outlive the server.** The temporary server keeps concurrency leases in files
  under ``PREFECT_HOME`` (Prefect's filesystem lease storage) instead of in its memory: a
  command that died leaves slot counts in the database, and only a lease record lets the
  next command see that they expired and give them back (``tasks.slots.reap_expired``; the
  ephemeral server runs no repossessor). ``PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE`` wins.
- **The lab's secrets.** While a lab runs and no team server is configured, the lab's
  ``ONBOARD_SECRET_*`` stand-ins (``onboard lab env``) are set for the block, so the
  README's steps work without ``eval "$(onboard lab env)"``; a variable the user exported wins.
- **Opt out.** ``ONBOARD_PREFECT_VERBOSE=1`` leaves Prefect's console logging as it is.

Nothing here changes settings outside the block: environment variables and handler levels
are restored on exit. The one exception: a Prefect service's "failed with N pending items"
line at interpreter exit, after the block drained the logs, stays off the console (quiet mode).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cli.output import Output

if TYPE_CHECKING:
    from flows.results import FlowResult

R = TypeVar("R", bound="FlowResult")

__all__ = [
    "LAB_STATE_ENV",
    "TEMPORARY_NOTE",
    "VERBOSE_ENV",
    "PrefectUnavailableError",
    "prefect_runtime",
    "run_flow",
]

VERBOSE_ENV = "ONBOARD_PREFECT_VERBOSE"
LAB_STATE_ENV = "ONBOARD_LAB_STATE_DIR"
TEMPORARY_NOTE = (
    "note: no long-lived Prefect server runs (`onboard lab up` starts one); "
    "starting a temporary one for this command (20-35 s)"
)
_STARTUP_TIMEOUT_S = 120  # the temporary server takes ~10 s to start on a busy 2-core machine
_DRAIN_TIMEOUT_S = 30.0  # a loaded machine's SQLite server can take that long
_MUTED = logging.CRITICAL + 1

# Defaults only: a value the user exported wins. The temporary server inherits these.
_QUIET_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(_STARTUP_TIMEOUT_S),
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
}


class PrefectUnavailableError(RuntimeError):
    """Raised when the configured Prefect API does not answer (commands exit 2 with it)."""


def _require_api(url: str) -> None:
    """Fail in one sentence, before any flow starts, when nothing answers at ``url``."""
    from prefect.client.orchestration import get_client

    problem: BaseException | None
    try:
        with get_client(sync_client=True) as client:
            problem = client.api_healthcheck()
    except Exception as exc:  # the client checks the server version on entry
        problem = exc
    if problem is not None:
        raise PrefectUnavailableError(
            f"no Prefect API answers at {url} ({type(problem).__name__}); start that server, "
            "or unset PREFECT_API_URL so onboard starts a temporary local one"
        )


@contextmanager
def _environment(defaults: dict[str, str]) -> Iterator[None]:
    added = [key for key in defaults if key not in os.environ]
    for key in added:
        os.environ[key] = defaults[key]
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@contextmanager
def _muted_console() -> Iterator[None]:
    """Raise every Prefect console/debug stream handler above CRITICAL for the block."""
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger()] + [
        obj for obj in logging.root.manager.loggerDict.values() if isinstance(obj, logging.Logger)
    ]
    handlers = {
        h
        for lg in loggers
        for h in lg.handlers
        if isinstance(h, PrefectConsoleHandler)
        or (type(h).__name__ == "_SafeStreamHandler" and lg.name.startswith("prefect"))
    }
    levels = {h: h.level for h in handlers}
    for handler in handlers:
        handler.setLevel(_MUTED)
    try:
        yield
    finally:
        for handler, level in levels.items():
            handler.setLevel(level)


def _drain(*, quiet: bool) -> None:
    """Block until queued logs and events have been sent (or the timeout passes).

    ``quiet``: a log or event service that Prefect stops again at interpreter exit, after
    this block, may report "Service 'EventsWorker' failed with 0 pending items" from its
    exit hook (seen on a loaded machine); the run's logs were drained here, so that line
    is kept off the console from now on (``ONBOARD_PREFECT_VERBOSE=1`` shows it).
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=_DRAIN_TIMEOUT_S, at_exit=False)
    EventsWorker.drain_all(timeout=_DRAIN_TIMEOUT_S, at_exit=False)
    services = logging.getLogger("prefect._internal.concurrency")
    if quiet and not any(isinstance(f, _ExitNoise) for f in services.filters):
        services.addFilter(_ExitNoise())


class _ExitNoise(logging.Filter):
    """Drops a Prefect service's report that it failed while being stopped at exit."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Service %r failed with")


@dataclass(frozen=True)
class _LabApi:
    """The running lab's long-lived Prefect API and its secret stand-ins."""

    url: str | None
    secrets: dict[str, str]


def _running_lab() -> _LabApi:
    """What the lab in ``$ONBOARD_LAB_STATE_DIR`` (or ``.lab``) offers now: its Prefect API
    when that server answers, and its secrets when the lab's servers run."""
    from lab import Lab, LabError

    state = Path(os.environ.get(LAB_STATE_ENV) or ".lab")
    if not (state / "lab.json").exists():
        return _LabApi(None, {})
    try:
        lab = Lab(state)
    except LabError:
        return _LabApi(None, {})
    url = lab.prefect.api_url if lab.prefect.pid is not None and lab.prefect.healthy() else None
    secrets = lab.secret_env() if lab.source.pid is not None else {}
    return _LabApi(url, secrets)


@contextmanager
def prefect_runtime(*, verbose: bool | None = None) -> Iterator[str]:
    """Give the block a Prefect API (configured, the lab's long-lived server, or a temporary
    local one); yield its URL."""
    if verbose is None:
        verbose = os.environ.get(VERBOSE_ENV) == "1"
    quiet = {} if verbose else _QUIET_ENV
    with _environment(quiet):
        from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

        with _muted_console() if not verbose else _nothing():
            configured = get_current_settings().api.url
            lab = _running_lab()
            team = bool(configured) and not _same_url(configured, lab.url)
            url = configured if team else lab.url
            with _environment({} if team else lab.secrets):
                if not url:
                    with _temporary_server(verbose=verbose) as temporary:
                        yield temporary
                    return
                # Also in the environment: threads the command starts (the pause answerer)
                # do not inherit Prefect's settings context.
                with (
                    temporary_settings({PREFECT_API_URL: url}),
                    _environment({"PREFECT_API_URL": url}),
                ):
                    _require_api(url)
                    try:
                        yield url
                    finally:
                        _drain(quiet=not verbose)


def _same_url(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/") == (b or "").rstrip("/")


@contextmanager
def _temporary_server(*, verbose: bool) -> Iterator[str]:
    """Prefect's temporary local server for the block, stopped after the logs are drained."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    sys.stderr.write(TEMPORARY_NOTE + "\n")
    with _file_leases():
        server = SubprocessASGIServer()
        server.start(timeout=_STARTUP_TIMEOUT_S)
        try:
            with temporary_settings({PREFECT_API_URL: server.api_url}):
                try:
                    yield server.api_url
                finally:
                    _drain(quiet=not verbose)
        finally:
            server.stop()


_LEASE_STORAGE_ENV = "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"
_FILE_LEASES = "prefect.server.concurrency.lease_storage.filesystem"


@contextmanager
def _file_leases() -> Iterator[None]:
    """Lease files for the temporary server and this process (unless the user chose)."""
    from prefect.settings import temporary_settings

    if os.environ.get(_LEASE_STORAGE_ENV):
        yield
        return
    with temporary_settings(updates={"server.concurrency.lease_storage": _FILE_LEASES}):
        yield


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def run_flow(start: Callable[[], Any], out: Output, result_type: type[R]) -> R:
    """Call ``start`` (a flow called with ``return_state=True``) in :func:`prefect_runtime`.

    Returns the flow's typed result. An unusable Prefect API, a run that raised (its error is
    the one sentence: a spec or user-list problem, a wrong key), or a run without a
    ``result_type`` result exits 2, so nothing fails silently.
    """
    from flows.results import result_of

    try:
        with prefect_runtime():
            state = start()
            data = result_of(state)
    except PrefectUnavailableError as exc:
        out.fail(str(exc))
    if isinstance(data, BaseException):
        out.fail(str(data))
    if not isinstance(data, result_type):
        out.fail(state.message or "the flow failed without a result")
    return data
