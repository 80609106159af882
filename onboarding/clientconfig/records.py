"""DNS records that let mail clients find the hosted servers by themselves.

- RFC 6186 SRV records (``prio weight port target``), with RFC 8314's implicit-TLS services
  first: ``_imaps._tcp`` 993 and ``_submissions._tcp`` 465 are offered, ``_submission._tcp`` 587
  (STARTTLS) as fallback; plain IMAP and POP3 are published as "not offered" (target ``.``,
  RFC 2782) so clients do not guess.
- Mozilla autoconfig: ``autoconfig.<domain>`` CNAME to our autoconfig host (clients fetch
  ``https://autoconfig.<domain>/mail/config-v1.1.xml``).
- Microsoft Autodiscover (POX): ``autodiscover.<domain>`` CNAME to our host, plus the SRV
  ``_autodiscover._tcp.<domain>`` ``0 0 443 <host>`` that Outlook tries last.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ClientHosts", "ClientRecord", "client_records"]


@dataclass(frozen=True)
class ClientHosts:
    """Public names of the hosted service that clients are pointed at."""

    imap_host: str
    submission_host: str
    autoconfig_host: str
    autodiscover_host: str


@dataclass(frozen=True)
class ClientRecord:
    """One client-configuration record: absolute ``name`` (no trailing dot), type, value."""

    name: str
    rdtype: str
    value: str
    purpose: str


def _fqdn(host: str) -> str:
    return host.rstrip(".") + "."


def client_records(domain: str, hosts: ClientHosts) -> tuple[ClientRecord, ...]:
    """Return the SRV and CNAME records ``domain`` publishes for client autoconfiguration."""
    imap = _fqdn(hosts.imap_host)
    smtp = _fqdn(hosts.submission_host)
    return (
        ClientRecord(f"_imaps._tcp.{domain}", "SRV", f"0 1 993 {imap}", "IMAP over TLS"),
        ClientRecord(f"_submissions._tcp.{domain}", "SRV", f"0 1 465 {smtp}", "sending over TLS"),
        ClientRecord(
            f"_submission._tcp.{domain}", "SRV", f"10 1 587 {smtp}", "sending with STARTTLS"
        ),
        ClientRecord(f"_imap._tcp.{domain}", "SRV", "0 0 0 .", "plain IMAP: not offered"),
        ClientRecord(f"_pop3s._tcp.{domain}", "SRV", "0 0 0 .", "POP3 over TLS: not offered"),
        ClientRecord(f"_pop3._tcp.{domain}", "SRV", "0 0 0 .", "plain POP3: not offered"),
        ClientRecord(
            f"autoconfig.{domain}",
            "CNAME",
            _fqdn(hosts.autoconfig_host),
            "Thunderbird/Mozilla autoconfig",
        ),
        ClientRecord(
            f"autodiscover.{domain}",
            "CNAME",
            _fqdn(hosts.autodiscover_host),
            "Outlook autodiscover",
        ),
        ClientRecord(
            f"_autodiscover._tcp.{domain}",
            "SRV",
            f"0 0 443 {_fqdn(hosts.autodiscover_host)}",
            "Outlook autodiscover (SRV)",
        ),
    )
