"""MailRoute control-panel API client and the provisioning engine (no Prefect here).

``ControlPanelClient`` speaks the contract in ``reference/mailroute-api.md``; the
``provision_*`` functions build on it to create a customer's objects idempotently: the
customer and its domains, the mailboxes, then the mailboxes' aliases. Whether the mailboxes
log in is checked by ``onboarding.mailflow.check_accounts`` (the one login path);
``AccountsReport.with_logins`` records its results in the provisioning report.
"""

from __future__ import annotations

from onboarding.controlpanel import _models
from onboarding.controlpanel._accounts import Credential, provision_accounts
from onboarding.controlpanel._aliases import AliasOwner, provision_aliases
from onboarding.controlpanel._client import API_ROOT, ControlPanelClient, Resource
from onboarding.controlpanel._exceptions import (
    AuthenticationFailed,
    Conflict,
    ControlPanelError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Timeout,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)
from onboarding.controlpanel._http import RetryPolicy
from onboarding.controlpanel._models import *  # noqa: F403  (its __all__ is the list)
from onboarding.controlpanel._provisioning import ProvisioningReport
from onboarding.controlpanel._report import (
    ACCOUNT_COLUMNS,
    ALIAS_COLUMNS,
    SETUP_COLUMNS,
    account_rows,
    alias_rows,
    self_service_markdown,
    setup_rows,
    summary_markdown,
)
from onboarding.controlpanel._results import (
    AccountResult,
    AccountsReport,
    AliasesReport,
    AliasResult,
    DomainSetup,
    LoginCheck,
    LoginResult,
    ObjectResult,
    Outcome,
    SetupResult,
)
from onboarding.controlpanel._setup import (
    CustomerDomain,
    InboundServer,
    routed_only_to,
    set_up_customer,
)

__all__ = [
    "ACCOUNT_COLUMNS",
    "ALIAS_COLUMNS",
    "API_ROOT",
    "SETUP_COLUMNS",
    "AccountResult",
    "AccountsReport",
    "AliasOwner",
    "AliasResult",
    "AliasesReport",
    "AuthenticationFailed",
    "Conflict",
    "ControlPanelClient",
    "ControlPanelError",
    "Credential",
    "CustomerDomain",
    "DomainSetup",
    "InboundServer",
    "LoginCheck",
    "LoginResult",
    "NotFound",
    "ObjectResult",
    "Outcome",
    "PermissionDenied",
    "ProvisioningReport",
    "RateLimited",
    "Resource",
    "RetryPolicy",
    "ServerError",
    "SetupResult",
    "Timeout",
    "TransportError",
    "UnexpectedResponse",
    "ValidationFailed",
    "account_rows",
    "alias_rows",
    "provision_accounts",
    "provision_aliases",
    "routed_only_to",
    "self_service_markdown",
    "set_up_customer",
    "setup_rows",
    "summary_markdown",
]
# The resource models are re-exported as one list, kept in ``_models.__all__`` (asyncio's
# pattern; type checkers follow ``import *`` and ``__all__ +=``).
__all__ += _models.__all__
