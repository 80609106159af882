"""A local mail lab of real servers (Dovecot, Postfix, NSD, Unbound) on 127.0.0.1.

Used by the tests (pytest fixtures ``lab`` / ``lab_users``), the demo and ``onboard lab``.
No Prefect here.
"""

from lab._accounts import Account
from lab._dns import DnsServers
from lab._dovecot import DestinationServer, SourceServer
from lab._errors import LabError, LabStateError, ServerStartError
from lab._gateway import Gateway, QueuedMessage
from lab._info import ServerInfo
from lab._lab import Lab, LabStatus
from lab._ports import HOST, LabPorts
from lab._seed import SeedReport
from lab._users import LabUser, LabUsers, unique_domain

__all__ = [
    "HOST",
    "Account",
    "DestinationServer",
    "DnsServers",
    "Gateway",
    "Lab",
    "LabError",
    "LabPorts",
    "LabStateError",
    "LabStatus",
    "LabUser",
    "LabUsers",
    "QueuedMessage",
    "SeedReport",
    "ServerInfo",
    "ServerStartError",
    "SourceServer",
    "unique_domain",
]
