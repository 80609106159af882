"""The lab's client-configuration host serves published files by the ``Host`` header, as our
autoconfig/autodiscover hosts do behind the customers' CNAMEs."""

from __future__ import annotations

import secrets

import httpx

from lab import Lab
from onboarding.clientconfig.lookup import autodiscover_request


def _site() -> str:
    return f"c{secrets.token_hex(3)}.test"


def test_autoconfig_is_served_by_host_and_unknown_hosts_get_404(lab: Lab) -> None:
    """GET /mail/config-v1.1.xml returns the file published for the request's Host (also at
    the .well-known path); another Host gets 404; the host is listed healthy in status."""
    domain = _site()
    lab.clientconfig.publish({f"autoconfig.{domain}/mail/config-v1.1.xml": "<clientConfig/>"})
    url = lab.clientconfig.base_url
    got = httpx.get(url + "/mail/config-v1.1.xml", headers={"Host": f"autoconfig.{domain}"})
    assert (got.status_code, got.text) == (200, "<clientConfig/>")
    assert got.headers["content-type"].startswith("application/xml")
    well_known = httpx.get(
        url + "/.well-known/autoconfig/mail/config-v1.1.xml",
        headers={"Host": f"autoconfig.{domain}:80"},
    )
    assert well_known.text == "<clientConfig/>"
    other = httpx.get(url + "/mail/config-v1.1.xml", headers={"Host": f"autoconfig.{_site()}"})
    assert other.status_code == 404
    status = lab.status().server("clientconfig")
    assert status.healthy and status.ports == {"http": lab.ports.clientconfig}


def test_autodiscover_post_fills_in_the_address_escaped(lab: Lab) -> None:
    """POST /autodiscover/autodiscover.xml (any case) returns the published response with the
    request's EMailAddress in place of %EMAILADDRESS%, XML-escaped; no address is a 400."""
    domain = _site()
    lab.clientconfig.publish(
        {f"autodiscover.{domain}/autodiscover/autodiscover.xml": "<r>%EMAILADDRESS%</r>"}
    )
    host = {"Host": f"autodiscover.{domain}"}
    url = lab.clientconfig.base_url
    email = f"a&b@{domain}"
    got = httpx.post(
        url + "/Autodiscover/Autodiscover.xml", content=autodiscover_request(email), headers=host
    )
    assert (got.status_code, got.text) == (200, f"<r>a&amp;b@{domain}</r>")
    bad = httpx.post(url + "/autodiscover/autodiscover.xml", content=b"<x/>", headers=host)
    assert bad.status_code == 400
