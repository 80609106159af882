"""Email-client configuration: the DNS names clients use to find the hosted servers, and the
files they download (Mozilla autoconfig, Outlook autodiscover, Apple mobileconfig)."""

from onboarding.clientconfig.files import (
    render_autoconfig,
    render_autodiscover,
    render_mobileconfig,
)
from onboarding.clientconfig.records import ClientHosts, ClientRecord, client_records

__all__ = [
    "ClientHosts",
    "ClientRecord",
    "client_records",
    "render_autoconfig",
    "render_autodiscover",
    "render_mobileconfig",
]
