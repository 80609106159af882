"""The lab control panel: MailRoute's control-panel API contract on a local SQLite database.

Run it with ``python -m lab.controlpanel --state-dir DIR --port PORT`` (``onboard lab up``
does). On first start it creates ``DIR/controlpanel/api-key`` (``login:key``, mode 0600; read
it with :func:`read_api_key`) and the reseller ``Lab Reseller`` the example spec names.
Resources: reseller, customer, domain, mail_server, email_account, localpart_alias,
domain_alias, with ``/api/v1/`` and ``/api/v1/<res>/schema/``. Every write is applied to the
lab: a domain's lowest-priority mail_server becomes its gateway route
(``lmtp:inet:<server>:<deliveryport>``), ``hold_email`` holds/releases it at the gateway, a
localpart_alias becomes a gateway alias (``sales@acme.test`` → the account's address, routed
like the account; deleting the alias, account or domain removes it), and an email account
becomes a login on the destination Dovecot. At start every route, hold and alias is applied
again. Only a password hash is stored.

Lab-only endpoints (same ``Authorization: ApiKey login:key``; not part of the contract):

``GET /_lab/stats`` → ``{"requests": {"GET": n, "POST": n, ...}, "total": n, "writes": n}``
    API requests received since start or the last reset (``POST``/``DELETE`` resets).
``POST /_lab/faults`` with ``{"faults": [rule, ...], "seed": 0}`` replaces the fault rules;
    ``DELETE`` clears them; ``GET`` lists them with how often each fired. A rule::

        {"kind": "status", "status": 500, "count": 3, "method": "POST",
         "path_prefix": "/api/v1/email_account/"}
        {"kind": "status", "status": 429, "retry_after": 1, "count": 2}
        {"kind": "latency", "seconds": 0.05}                 # every request, forever
        {"kind": "drop", "count": 1}                          # close without answering
        {"kind": "lose_answer", "count": 1, "method": "POST"} # do it, then close unanswered
        {"kind": "reject", "match": {"localpart": "carol"},   # a permanent 400
         "field": "localpart", "message": "Reserved name."}

    ``count`` limits how often a rule fires (absent = always), ``rate`` (0-1) fires at
    random with the given ``seed``. Latency rules add up; the first other matching rule wins.
"""

from __future__ import annotations

from lab.controlpanel._effects import LabEffects, RecordingEffects, lmtp_transport
from lab.controlpanel._faults import FaultRule
from lab.controlpanel._passwords import hash_password, verify_password
from lab.controlpanel._process import launch, wait_ready
from lab.controlpanel._server import (
    API_LOGIN,
    SEED_RESELLER,
    api_key_path,
    build,
    database_path,
    ensure_api_key,
    read_api_key,
    serve,
)

__all__ = [
    "API_LOGIN",
    "SEED_RESELLER",
    "FaultRule",
    "LabEffects",
    "RecordingEffects",
    "api_key_path",
    "build",
    "database_path",
    "ensure_api_key",
    "hash_password",
    "launch",
    "lmtp_transport",
    "read_api_key",
    "serve",
    "verify_password",
    "wait_ready",
]
