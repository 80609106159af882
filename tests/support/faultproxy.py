"""A TCP proxy on 127.0.0.1 that injects network faults between a client and a real server.

Used by the migration tests (a source server that stalls, drops or cuts a connection in the
middle of a FETCH) and by the benchmark ("WAN" profile: 10 ms each way). Latency is a delay
line, not a throttle: every chunk is held for the configured time and chunks stay in flight
together, so bandwidth is unchanged and only round trips get slower, as on a real link.

Faults, all changeable while connections are open::

    proxy = FaultProxy(("127.0.0.1", 10143)).start()
    proxy.set_latency(upstream=0.010, downstream=0.010)  # seconds, client->server / back
    proxy.stall()          # hold every byte in both directions (a hung server) ...
    proxy.resume()         # ... and let it through again
    proxy.drop_all()       # reset every open connection now
    proxy.refuse(True)     # new connections are reset at once (server down)
    proxy.cut_after(50_000, direction="downstream")  # reset the connection that
                                                     # carries the next 50 kB back
    proxy.filter("upstream", factory)  # new connections pass their bytes through
                                       # factory()'s feed(); it may rewrite them or
                                       # raise ResetConnection (see support.imap_filters)
    proxy.stop()

It runs an asyncio loop in a daemon thread; every public method is thread-safe. Also a
command (the benchmark runs it as a separate process so its CPU is not billed to a tool)::

    python -m support.faultproxy --target 127.0.0.1:10143 --delay-ms 10   # prints the port
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

__all__ = ["Direction", "FaultProxy", "ProxyStats", "ResetConnection", "StreamFilter"]

Direction = Literal["upstream", "downstream"]
_CHUNK = 64 * 1024
_QUEUE_CHUNKS = 64  # per direction: about 4 MB in flight at most
_RESET = b"<reset>"  # queue marker: reset the connection once what precedes it is written
T = TypeVar("T")


class ResetConnection(Exception):
    """Raised by a stream filter: reset this connection now (nothing more is forwarded).

    With ``farewell`` (an upstream filter only) the server side is cut, the client gets
    ``farewell`` and then an orderly end of stream, and what it still sends is discarded: a
    server that says ``* BYE ...`` and closes, as Dovecot does on a fatal error.
    """

    def __init__(self, farewell: bytes | None = None) -> None:
        super().__init__("reset")
        self.farewell = farewell


class StreamFilter(Protocol):
    """Per connection and direction: bytes in, the bytes to forward out (may buffer)."""

    def feed(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class ProxyStats:
    """Counters since start: connections accepted, bytes forwarded each way, resets done."""

    connections: int
    open_connections: int
    bytes_upstream: int
    bytes_downstream: int
    resets: int


class _Conn:
    """One client connection and its server connection."""

    def __init__(
        self,
        client: asyncio.StreamWriter,
        server: asyncio.StreamWriter,
        filters: dict[Direction, StreamFilter] | None = None,
    ) -> None:
        self.client = client
        self.server = server
        self.closed = False
        self.filters = filters or {}
        self.silenced = False  # after a farewell: nothing more reaches the client

    def reset(self) -> None:
        """Close both sockets with an RST (SO_LINGER 0), like a dropped network path."""
        if self.closed:
            return
        self.closed = True
        for writer in (self.client, self.server):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


class FaultProxy:
    """Forward ``listen`` → ``target`` with injectable latency, stalls, drops and cuts."""

    def __init__(
        self,
        target: tuple[str, int],
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        upstream_delay: float = 0.0,
        downstream_delay: float = 0.0,
    ) -> None:
        self.target = target
        self._listen = (listen_host, listen_port)
        self._delay: dict[Direction, float] = {
            "upstream": upstream_delay,
            "downstream": downstream_delay,
        }
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._port: int | None = None
        self._conns: set[_Conn] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._flowing: asyncio.Event | None = None
        self._refusing = False
        self._cut: tuple[Direction, int] | None = None
        self._filters: dict[Direction, Callable[[], StreamFilter]] = {}
        self._bytes: dict[Direction, int] = {"upstream": 0, "downstream": 0}
        self._accepted = 0
        self._resets = 0
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Start listening; return self once the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._open())
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="faultproxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _open(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, *self._listen, backlog=512)
        self._port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Reset all connections and stop listening."""
        if self._thread is None:
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for conn in list(self._conns):
                conn.reset()
            if self._flowing is not None:
                self._flowing.set()
            handlers = [t for t in self._handlers if not t.done()]
            if handlers:
                await asyncio.wait(handlers, timeout=5)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The local port clients connect to."""
        if self._port is None:
            raise RuntimeError("FaultProxy.start() was not called")
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        return (self._listen[0], self.port)

    # -- faults ------------------------------------------------------------------------------

    def set_latency(
        self, *, upstream: float | None = None, downstream: float | None = None
    ) -> None:
        """Hold each chunk this many seconds (client→server ``upstream``, back ``downstream``)."""
        if upstream is not None:
            self._delay["upstream"] = upstream
        if downstream is not None:
            self._delay["downstream"] = downstream

    def stall(self) -> None:
        """Stop forwarding in both directions; connections stay open (a hung peer)."""
        self._call(lambda: self._flowing.clear() if self._flowing else None)

    def resume(self) -> None:
        """Forward again after :meth:`stall`."""
        self._call(lambda: self._flowing.set() if self._flowing else None)

    def drop_all(self) -> int:
        """Reset every open connection now; return how many were reset."""
        return self._call(self._reset_all)

    def refuse(self, on: bool = True) -> None:
        """While on, every new connection is reset right after it is accepted."""
        self._refusing = on

    def cut_after(self, nbytes: int, *, direction: Direction = "downstream") -> None:
        """Reset the connection that carries the next ``nbytes`` in ``direction`` (one-shot).

        Bytes are counted across all connections from now on; the connection whose chunk
        crosses the mark gets the bytes up to the mark and then an RST.
        """
        with self._lock:
            self._cut = (direction, self._bytes[direction] + nbytes)

    def filter(self, direction: Direction, factory: Callable[[], StreamFilter] | None) -> None:
        """Pass ``direction``'s bytes of each new connection through ``factory()`` (None: off).

        The filter sees the bytes in order and returns what to forward; raising
        :class:`ResetConnection` resets the connection (a server that drops it).
        """
        if factory is None:
            self._filters.pop(direction, None)
        else:
            self._filters[direction] = factory

    @property
    def cut_pending(self) -> bool:
        """True until an armed :meth:`cut_after` has fired."""
        return self._cut is not None

    def stats(self) -> ProxyStats:
        with self._lock:
            return ProxyStats(
                connections=self._accepted,
                open_connections=len(self._conns),
                bytes_upstream=self._bytes["upstream"],
                bytes_downstream=self._bytes["downstream"],
                resets=self._resets,
            )

    # -- internals ---------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def _reset_all(self) -> int:
        conns = [c for c in self._conns if not c.closed]
        for conn in conns:
            conn.reset()
        with self._lock:
            self._resets += len(conns)
        return len(conns)

    async def _handle(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        with self._lock:
            self._accepted += 1
        if self._refusing:
            _Conn(c_writer, c_writer).reset()
            with self._lock:
                self._resets += 1
            return
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _Conn(c_writer, c_writer).reset()
            return
        conn = _Conn(c_writer, s_writer, {d: make() for d, make in self._filters.items()})
        self._conns.add(conn)
        try:
            await asyncio.gather(
                self._pipe(conn, c_reader, s_writer, "upstream"),
                self._pipe(conn, s_reader, c_writer, "downstream"),
            )
        finally:
            self._conns.discard(conn)
            if not conn.closed:
                conn.closed = True
                for w in (c_writer, s_writer):
                    w.transport.abort()

    async def _pipe(
        self,
        conn: _Conn,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: Direction,
    ) -> None:
        """Read chunks, stamp each with its release time, and write them out in order."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(_QUEUE_CHUNKS)

        async def pump_in() -> None:
            try:
                while not conn.closed:
                    data = await reader.read(_CHUNK)
                    if not data:
                        break
                    if conn.silenced:
                        continue
                    filt = conn.filters.get(direction)
                    if filt is not None:
                        try:
                            data = filt.feed(data)
                        except ResetConnection as stop:
                            if stop.farewell is None or direction != "upstream":
                                await queue.put((time.monotonic(), _RESET))
                                return
                            conn.silenced = True
                            conn.client.write(stop.farewell)
                            await conn.client.drain()
                            conn.server.transport.abort()
                            continue
                    data, cut = self._account(direction, data)
                    release = time.monotonic() + self._delay[direction]
                    await queue.put((release, data))
                    if cut:
                        await queue.put((release, _RESET))
                        return
            except (OSError, asyncio.IncompleteReadError):
                pass
            await queue.put(None)

        async def pump_out() -> None:
            assert self._flowing is not None
            try:
                while True:
                    item = await queue.get()
                    if item is None:
                        queue.task_done()
                        break
                    release, data = item
                    wait = release - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    await self._flowing.wait()
                    if conn.closed:
                        queue.task_done()
                        break
                    if data is _RESET:
                        conn.reset()
                        with self._lock:
                            self._resets += 1
                        queue.task_done()
                        break
                    if data and not (conn.silenced and direction == "downstream"):
                        writer.write(data)
                        await writer.drain()
                    queue.task_done()
                if not conn.closed and writer.can_write_eof():
                    writer.write_eof()
            except OSError:
                conn.reset()
            finally:
                while not queue.empty():  # unblock pump_in after a reset
                    queue.get_nowait()
                    queue.task_done()

        await asyncio.gather(pump_in(), pump_out())

    def _account(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        """Count ``data``; if an armed cut falls inside it, return the head and True."""
        with self._lock:
            before = self._bytes[direction]
            cut = self._cut
            if cut is not None and cut[0] == direction and before + len(data) >= cut[1]:
                data = data[: max(0, cut[1] - before)]
                self._cut = None
                self._bytes[direction] = before + len(data)
                return data, True
            self._bytes[direction] = before + len(data)
            return data, False


def main(argv: list[str] | None = None) -> None:
    """Run a proxy until killed; print the listening port on the first line of stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--target", required=True, help="host:port of the real server")
    parser.add_argument("--listen-port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added each way")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    delay = args.delay_ms / 1000
    proxy = FaultProxy(
        (host, int(port)),
        listen_port=args.listen_port,
        upstream_delay=delay,
        downstream_delay=delay,
    ).start()
    sys.stdout.write(f"{proxy.port}\n")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    main()
