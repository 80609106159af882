"""The loopback ports of one lab: fixed defaults for the CLI and demo, free ports for tests."""

from __future__ import annotations

import dataclasses
import re
import socket
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["HOST", "LabPorts"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class LabPorts:
    """Every port a lab listens on, all on 127.0.0.1.

    The defaults match ``examples/acme/customer.yaml`` so the demo works without edits.
    """

    source_imap: int = 10143
    source_lmtp: int = 10024
    destination_imap: int = 11143
    destination_lmtp: int = 11024
    gateway_smtp: int = 10025
    submission: int = 10587  # the hosted submission service (587's role)
    dns_auth: int = 10053
    dns_resolver: int = 10054
    controlpanel: int = 18080
    clientconfig: int = 18081
    idp: int = 18082  # the lab identity provider (OAuth2 token endpoints)
    prefect: int = 14200  # the long-lived Prefect server (`onboard lab up`)

    DEFAULT: ClassVar[LabPorts]

    @classmethod
    def free(cls) -> LabPorts:
        """Return ports the kernel reports free for both TCP and UDP right now (tests)."""
        names = [f.name for f in dataclasses.fields(cls)]
        ports: list[int] = []
        held: list[socket.socket] = []
        try:
            while len(ports) < len(names):
                tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                tcp.bind((HOST, 0))
                port = tcp.getsockname()[1]
                udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    udp.bind((HOST, port))
                except OSError:
                    tcp.close()
                    udp.close()
                    continue
                held += [tcp, udp]
                ports.append(port)
        finally:
            for sock in held:
                sock.close()
        return cls(**dict(zip(names, ports, strict=True)))

    def rewrite(self, text: str) -> str:
        """``text`` (e.g. ``examples/acme/customer.yaml``) with every default port of the
        lab replaced by this lab's port for the same server (a spec for a free-ports lab)."""
        ours = {
            str(d): str(p)
            for d, p in zip(self.DEFAULT.to_dict().values(), self.to_dict().values(), strict=True)
        }
        pattern = re.compile(r"(?<!\d)(" + "|".join(ours) + r")(?!\d)")
        return pattern.sub(lambda m: ours[m.group(1)], text)

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabPorts:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in names})


LabPorts.DEFAULT = LabPorts()
