"""The fault proxy forwards bytes unchanged and injects exactly the faults it is asked for."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from support.faultproxy import FaultProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        with contextlib.suppress(OSError):  # the proxy resets connections on purpose
            while data := self.request.recv(65536):
                self.request.sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture()
def echo() -> Iterator[tuple[str, int]]:
    server = _Server(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[0], server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture()
def proxy(echo: tuple[str, int]) -> Iterator[FaultProxy]:
    with FaultProxy(echo) as p:
        yield p


def _connect(proxy: FaultProxy) -> socket.socket:
    return socket.create_connection(proxy.address, timeout=5)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(65536, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def test_forwards_large_payload_unchanged(proxy: FaultProxy) -> None:
    """Every byte arrives, in order, both ways; the counters match."""
    payload = bytes(range(256)) * 20_000  # 5 MB
    with _connect(proxy) as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        got = _recv_exactly(sock, len(payload))
        sender.join()
    assert got == payload
    stats = proxy.stats()
    assert stats.bytes_upstream == len(payload)
    assert stats.bytes_downstream == len(payload)


def test_latency_delays_round_trips_but_not_pipelined_requests(proxy: FaultProxy) -> None:
    """100 ms each way makes a round trip ≥ 200 ms, yet 50 pipelined requests share one RTT
    (one request per round trip would take 10 s)."""
    proxy.set_latency(upstream=0.100, downstream=0.100)
    with _connect(proxy) as sock:
        start = time.monotonic()
        sock.sendall(b"ping")
        assert _recv_exactly(sock, 4) == b"ping"
        rtt = time.monotonic() - start
        assert rtt >= 0.200
        start = time.monotonic()
        for i in range(50):
            sock.sendall(b"%04d" % i)
        got = _recv_exactly(sock, 200)
        pipelined = time.monotonic() - start
    assert got == b"".join(b"%04d" % i for i in range(50))
    # A delay line, not one request per round trip (50 × 0.2 s): one RTT plus 2 s of slack.
    assert pipelined < 0.200 + 2.0


def test_stall_holds_bytes_until_resume(proxy: FaultProxy) -> None:
    """While stalled nothing arrives; after resume everything held arrives in order."""
    with _connect(proxy) as sock:
        proxy.stall()
        sock.sendall(b"held")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(10)
        proxy.resume()
        sock.settimeout(5)
        assert _recv_exactly(sock, 4) == b"held"


def test_drop_all_resets_open_connections(proxy: FaultProxy) -> None:
    """drop_all() resets live connections; the client sees a reset or EOF, not a hang."""
    with _connect(proxy) as sock:
        sock.sendall(b"x")
        assert _recv_exactly(sock, 1) == b"x"
        assert proxy.drop_all() == 1
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            for _ in range(100):
                sock.sendall(b"y" * 1000)
                if not sock.recv(10):
                    raise ConnectionResetError
    assert proxy.stats().resets == 1


def test_cut_after_delivers_exactly_n_bytes_then_resets(proxy: FaultProxy) -> None:
    """cut_after(N) lets N bytes through on that direction, then resets that connection."""
    proxy.cut_after(100_000, direction="downstream")
    payload = b"z" * 300_000
    with _connect(proxy) as sock:
        sender = threading.Thread(target=_send_quietly, args=(sock, payload))
        sender.start()
        got = bytearray()
        with pytest.raises(ConnectionResetError):
            while chunk := sock.recv(65536):
                got += chunk
            raise ConnectionResetError  # EOF instead of RST also ends the stream here
        sender.join()
    assert len(got) == 100_000
    assert not proxy.cut_pending
    with _connect(proxy) as sock:  # one-shot: the next connection is healthy
        sock.sendall(b"ok")
        assert _recv_exactly(sock, 2) == b"ok"


def test_refuse_resets_new_connections_until_lifted(proxy: FaultProxy) -> None:
    """refuse() makes the server look down; refuse(False) brings it back."""
    proxy.refuse(True)
    with pytest.raises((ConnectionResetError, ConnectionAbortedError)), _connect(proxy) as sock:
        sock.sendall(b"x")
        if not sock.recv(1):
            raise ConnectionResetError
    proxy.refuse(False)
    with _connect(proxy) as sock:
        sock.sendall(b"x")
        assert _recv_exactly(sock, 1) == b"x"


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(data)
