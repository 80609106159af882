"""Email-client configuration: the DNS names clients use to find the hosted servers."""

from onboarding.clientconfig.records import ClientHosts, ClientRecord, client_records

__all__ = ["ClientHosts", "ClientRecord", "client_records"]
