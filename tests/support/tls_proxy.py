"""A TLS front for the lab's source Dovecot: implicit TLS on a loopback port (issue 10).

The lab's Dovecot speaks plaintext on loopback; a customer's old server speaks TLS with a
certificate from a public CA, a private CA, or none at all (self-signed). This proxy gives the
source that last kind: a certificate made for ``127.0.0.1``/``localhost`` that is its own CA,
so a client verifies it only when given that file as its CA bundle::

    with tls_front(tmp_path, (lab.source.host, lab.source.imap_port)) as (port, ca_file):
        ...  # Endpoint("127.0.0.1", port, "implicit", ..., ca_file=str(ca_file))
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from lab._submission import make_self_signed

__all__ = ["tls_front"]


def _pump(src: socket.socket, dst: socket.socket) -> None:
    with suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    for s in (src, dst):
        with suppress(OSError):
            s.close()


def _serve(listener: socket.socket, context: ssl.SSLContext, target: tuple[str, int]) -> None:
    while True:
        try:
            raw, _ = listener.accept()
        except OSError:
            return  # closed: the proxy stops
        try:
            client = context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()  # the client refused our certificate: what the tests check
            continue
        upstream = socket.create_connection(target)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(a, b), daemon=True).start()


@contextmanager
def tls_front(folder: Path, target: tuple[str, int]) -> Iterator[tuple[int, Path]]:
    """Serve implicit TLS in front of ``target``; yield the port and the certificate (CA)."""
    cert, key = folder / "source-ca.pem", folder / "source-key.pem"
    make_self_signed(cert, key, names=("localhost",))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_serve, args=(listener, context, target), daemon=True).start()
    try:
        yield listener.getsockname()[1], cert
    finally:
        listener.close()
