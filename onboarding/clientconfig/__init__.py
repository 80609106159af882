"""Email-client configuration: the DNS names clients use to find the hosted servers, the files
they download (Mozilla autoconfig, Outlook autodiscover, Apple mobileconfig), the guides users
read, and the client-style lookups that check what our hosts serve."""

from onboarding.clientconfig.bundle import BundleFile, render_bundle
from onboarding.clientconfig.files import (
    render_autoconfig,
    render_autodiscover,
    render_mobileconfig,
)
from onboarding.clientconfig.guides import (
    GUIDE_SECTIONS,
    SHEET_SECTIONS,
    GuideInputs,
    GuideUser,
    guide_document,
    user_sheet,
)
from onboarding.clientconfig.lookup import (
    ClientLookup,
    LookupResult,
    check_autoconfig,
    check_autodiscover,
    check_client_config,
)
from onboarding.clientconfig.publish import site_files
from onboarding.clientconfig.records import ClientHosts, ClientRecord, client_records

__all__ = [
    "GUIDE_SECTIONS",
    "SHEET_SECTIONS",
    "BundleFile",
    "ClientHosts",
    "ClientLookup",
    "ClientRecord",
    "GuideInputs",
    "GuideUser",
    "LookupResult",
    "check_autoconfig",
    "check_autodiscover",
    "check_client_config",
    "client_records",
    "guide_document",
    "render_autoconfig",
    "render_autodiscover",
    "render_bundle",
    "render_mobileconfig",
    "site_files",
    "user_sheet",
]
