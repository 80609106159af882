"""A local mail lab of real servers (Dovecot, Postfix, NSD, Unbound) on 127.0.0.1.

Used by the tests (pytest fixtures ``lab``, ``lab_users``, ``lab_user`` in tests/conftest.py),
the demo and ``onboard lab``. No Prefect import here (its server is only another process).
The API in one screen::

    lab = Lab(state_dir, LabPorts.free())   # Lab(state_dir) reuses a running lab's ports
    lab.up(); lab.status(); lab.down(); lab.restart("source")
    lab.up(prefect=True); lab.prefect.api_url          # + the long-lived Prefect server
    lab.source.add_user(email, pw); lab.source.master_login(email)  # "email*admin"
    lab.source.master_password; lab.source.reset_uidvalidity(email, "Archive/2024")
    lab.source.add_master_user("ops2", "Grün-pw")  # another master: "email*ops2"
    lab.destination.set_account(email, pw, quota_bytes=..., max_message_bytes=...)
    lab.destination.remove_account(email); lab.destination.refuse_submission(email)
    lab.submission.port; lab.submission.cert   # hosted submission (587's role), STARTTLS+AUTH
    lab.gateway.set_route("acme.test", "lmtp:inet:127.0.0.1:11024"); lab.gateway.hold(d)
    lab.gateway.release(d); lab.gateway.queued(d); lab.gateway.is_held(d)
    lab.dns.set_zone("acme.test", zone_text); lab.dns.auth_address; lab.dns.resolver_address
    lab.seed("small", users=[...]) -> SeedReport(counts={email: {folder: n}}, passwords=...)
    lab.secret_env() -> {"ONBOARD_SECRET_ACME_SOURCE_MASTER": ..., ...}

The source uses the ``/`` hierarchy separator, the destination Dovecot's default ``.``.
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
