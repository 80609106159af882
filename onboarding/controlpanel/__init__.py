"""MailRoute control-panel API client and the provisioning engine (no Prefect here).

``ControlPanelClient`` speaks the contract in ``reference/mailroute-api.md``; the
``provision_*`` functions build on it to create a customer's objects idempotently.
"""

from __future__ import annotations

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
from onboarding.controlpanel._models import (
    Customer,
    Domain,
    DomainAlias,
    EmailAccount,
    FieldSchema,
    LocalpartAlias,
    MailServer,
    NewCustomer,
    NewDomain,
    NewDomainAlias,
    NewEmailAccount,
    NewLocalpartAlias,
    NewMailServer,
    NewReseller,
    Reseller,
    ResourceSchema,
    uri_id,
)

__all__ = [
    "API_ROOT",
    "AuthenticationFailed",
    "Conflict",
    "ControlPanelClient",
    "ControlPanelError",
    "Customer",
    "Domain",
    "DomainAlias",
    "EmailAccount",
    "FieldSchema",
    "LocalpartAlias",
    "MailServer",
    "NewCustomer",
    "NewDomain",
    "NewDomainAlias",
    "NewEmailAccount",
    "NewLocalpartAlias",
    "NewMailServer",
    "NewReseller",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Reseller",
    "Resource",
    "ResourceSchema",
    "RetryPolicy",
    "ServerError",
    "Timeout",
    "TransportError",
    "UnexpectedResponse",
    "ValidationFailed",
    "uri_id",
]
