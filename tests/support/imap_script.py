"""A scripted IMAP server on 127.0.0.1 that plays a misbehaving or limited server.

For what the lab's Dovecot cannot be made to do: offer no ``AUTH=PLAIN``, quote the client's
password back in its answer, or never finish a login. It greets with the given capabilities,
records every line it receives and answers each command from ``answers`` (verb → the text
after the tag, ``{tag}``-free), defaulting to ``OK done``::

    with ImapScript("IMAP4rev1 LITERAL+", {"LOGIN": "NO [AUTHENTICATIONFAILED] no"}) as srv:
        Endpoint("127.0.0.1", srv.port, "none", "ann@x.test", "pw")...
        srv.received  # [b'M1 LOGIN "ann@x.test" "pw"', ...]

An answer may use ``{line}`` for the received command line (a server that echoes it; for
``AUTHENTICATE`` the client's response too).
``AUTHENTICATE`` without an initial response gets a ``+`` continuation first.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

__all__ = ["ImapScript"]


class ImapScript:
    """One listening socket; each connection is served in its own daemon thread."""

    def __init__(self, capabilities: str, answers: dict[str, str] | None = None) -> None:
        self.capabilities = capabilities
        self.answers = {k.upper(): v for k, v in (answers or {}).items()}
        self.received: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def __enter__(self) -> ImapScript:
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb", buffering=0) as f:
            f.write(f"* OK [CAPABILITY {self.capabilities}] scripted\r\n".encode())
            while line := f.readline():
                line = line.rstrip(b"\r\n")
                self.received.append(line)
                tag, _, rest = line.partition(b" ")
                verb = rest.split(b" ", 1)[0].decode("ascii", "replace").upper()
                if verb == "AUTHENTICATE" and rest.count(b" ") == 1:  # no initial response
                    f.write(b"+ \r\n")
                    reply = f.readline().rstrip(b"\r\n")
                    self.received.append(reply)
                    line += b" " + reply  # what {line} echoes
                if verb == "CAPABILITY":
                    f.write(f"* CAPABILITY {self.capabilities}\r\n".encode())
                answer = self.answers.get(verb, "OK done")
                text = answer.replace("{line}", line.decode("utf-8", "replace"))
                f.write(tag + b" " + text.encode("utf-8") + b"\r\n")
                if verb == "LOGOUT":
                    return
