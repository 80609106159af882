"""The lab's DNS pair: NSD (authoritative) and Unbound (caching resolver) as processes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from functools import partial

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

from lab._dns_conf import PATTERN, DnsLayout, prepare_zone, render_nsd_conf, render_unbound_conf
from lab._errors import LabError, ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._process import (
    alive,
    grandchildren,
    live_pid,
    run_checked,
    tail,
    wait_for,
)

__all__ = ["DnsServers"]


def _soa_serial(host: str, port: int, origin: str) -> int | None:
    """The SOA serial ``host:port`` serves for ``origin``, or None if it does not answer it."""
    query = dns.message.make_query(origin + ".", dns.rdatatype.SOA)
    try:
        response = dns.query.udp(query, host, port=port, timeout=0.3)
    except (dns.exception.DNSException, OSError):
        return None
    if response.rcode() != dns.rcode.NOERROR:
        return None
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(rrset[0].serial)
    return None


def _answers(host: str, port: int) -> bool:
    query = dns.message.make_query("lab-health.test.", dns.rdatatype.A)
    try:
        dns.query.udp(query, host, port=port, timeout=0.3)
    except (dns.exception.DNSException, OSError):
        return False
    return True


class DnsServers:
    """NSD on ``auth_port`` serving the lab zones; Unbound on ``resolver_port`` in front."""

    name = "dns"

    def __init__(self, layout: DnsLayout, *, auth_port: int, resolver_port: int) -> None:
        self.layout = layout
        self.host = HOST
        self.auth_port = auth_port
        self.resolver_port = resolver_port

    @property
    def auth_address(self) -> tuple[str, int]:
        """(host, port) of the authoritative server (NSD)."""
        return (self.host, self.auth_port)

    @property
    def resolver_address(self) -> tuple[str, int]:
        """(host, port) of the caching resolver (Unbound)."""
        return (self.host, self.resolver_port)

    # -- lifecycle -----------------------------------------------------------------
    @property
    def nsd_pid(self) -> int | None:
        return live_pid(self.layout.nsd_pidfile, str(self.layout.nsd_conf))

    @property
    def unbound_pid(self) -> int | None:
        return live_pid(self.layout.unbound_pidfile, str(self.layout.unbound_conf))

    def pids(self) -> list[int]:
        return [p for p in (self.nsd_pid, self.unbound_pid) if p is not None]

    def prepare(self) -> None:
        lay = self.layout
        (lay.root / "zones").mkdir(parents=True, exist_ok=True)
        lay.control_socket.parent.mkdir(parents=True, exist_ok=True)
        lay.nsd_conf.write_text(render_nsd_conf(lay, port=self.auth_port))
        lay.unbound_conf.write_text(
            render_unbound_conf(lay, port=self.resolver_port, auth_port=self.auth_port)
        )

    def launch(self) -> None:
        self.prepare()
        lay = self.layout
        if self.nsd_pid is None:
            lay.control_socket.unlink(missing_ok=True)
            lay.nsd_pidfile.unlink(missing_ok=True)
            run_checked("dns-auth (nsd)", ["nsd", "-c", str(lay.nsd_conf)], lay.nsd_log)
        if self.unbound_pid is None:
            lay.unbound_pidfile.unlink(missing_ok=True)
            run_checked(
                "dns-resolver (unbound)", ["unbound", "-c", str(lay.unbound_conf)], lay.unbound_log
            )

    def wait_ready(self, timeout: float = 10.0) -> None:
        for label, port, log in (
            ("dns-auth (nsd)", self.auth_port, self.layout.nsd_log),
            ("dns-resolver (unbound)", self.resolver_port, self.layout.unbound_log),
        ):
            if not wait_for(partial(_answers, self.host, port), timeout=timeout):
                raise ServerStartError(
                    label, f"no DNS answer on {self.host}:{port}", log_tail=tail(log)
                )
        # A daemon can answer before it has written its pidfile; the lab stops servers by
        # pid, so both pids must be known before the servers count as up.
        if not wait_for(lambda: None not in (self.nsd_pid, self.unbound_pid), timeout=timeout):
            raise ServerStartError(
                "dns", "the servers answer but their pidfiles name no running process"
            )

    def info(self) -> list[ServerInfo]:
        servers = (
            ("dns_auth", self.auth_port, self.nsd_pid, self.layout.nsd_log),
            ("dns_resolver", self.resolver_port, self.unbound_pid, self.layout.unbound_log),
        )
        return [
            ServerInfo(
                name,
                self.host,
                {"dns": port},
                pid,
                pid is not None and _answers(self.host, port),
                str(log),
            )
            for name, port, pid, log in servers
        ]

    # -- zones ---------------------------------------------------------------------
    def zones(self) -> list[str]:
        """Origins NSD serves (or will serve at its next start)."""
        try:
            lines = self.layout.zonelist.read_text().splitlines()
        except FileNotFoundError:
            return []
        return sorted(
            parts[1].rstrip(".").lower()
            for parts in (line.split() for line in lines)
            if len(parts) >= 2 and parts[0] == "add"
        )

    def _current_serial(self, origin: str) -> int | None:
        path = self.layout.zonefile(origin)
        if not path.exists():
            return None
        try:
            zone = dns.zone.from_file(
                str(path), origin=origin + ".", relativize=False, check_origin=False
            )
        except (dns.exception.DNSException, OSError, ValueError):
            return None
        soa = zone.get_rdataset(origin + ".", dns.rdatatype.SOA)
        return int(soa[0].serial) if soa else None

    def set_zone(self, origin: str, zone_text: str, *, timeout: float = 5.0) -> int:
        """Serve ``zone_text`` for ``origin`` (new or changed) and return its SOA serial.

        The serial is bumped if it would not increase. Returns once NSD answers with the
        new serial, so the change is visible at the authoritative server when this returns;
        the resolver keeps cached answers until their TTL runs out.
        """
        origin = origin.rstrip(".").lower()
        zone = prepare_zone(origin, zone_text, previous_serial=self._current_serial(origin))
        path = self.layout.zonefile(origin)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(zone.text)
        try:
            previous = int(path.stat().st_mtime)
        except FileNotFoundError:
            previous = 0
        stamp = max(int(time.time()), previous + 1)  # NSD reloads files whose mtime changed
        os.utime(tmp, (stamp, stamp))
        os.replace(tmp, path)
        pid = self.nsd_pid
        # NSD's serving processes are grandchildren of the pidfile's pid; a reload starts new
        # ones while the old ones may still answer a few queries with the old zone.
        old_servers = grandchildren(pid) if pid is not None else set()
        if origin not in self.zones():
            if pid is None:
                with self.layout.zonelist.open("a") as f:
                    f.write(f"add {origin} {PATTERN}\n")
                return zone.serial
            self._control("addzone", origin, PATTERN)
        elif pid is not None:
            os.kill(pid, signal.SIGHUP)
        else:
            return zone.serial
        if not wait_for(
            lambda: (
                _soa_serial(self.host, self.auth_port, origin) == zone.serial
                and not any(alive(p) for p in old_servers)
            ),
            timeout=timeout,
            interval=0.02,
        ):
            raise LabError(
                f"NSD did not start serving {origin} serial {zone.serial} within {timeout}s; "
                f"see {self.layout.nsd_log}:\n{tail(self.layout.nsd_log)}"
            )
        return zone.serial

    def remove_zone(self, origin: str) -> None:
        """Stop serving ``origin`` (harmless if it is not served)."""
        origin = origin.rstrip(".").lower()
        if origin in self.zones() and self.nsd_pid is not None:
            self._control("delzone", origin)
        self.layout.zonefile(origin).unlink(missing_ok=True)

    def _control(self, *args: str) -> None:
        cmd = ["nsd-control", "-c", str(self.layout.nsd_conf), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=10)
        if proc.returncode != 0 or "error" in proc.stdout:
            raise LabError(f"{' '.join(cmd)} failed: {(proc.stdout + proc.stderr).strip()}")
