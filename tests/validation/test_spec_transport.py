"""The customer spec refuses cleartext credentials: remote http, tls none to a remote host,
credentials in a URL (issue 13); the override is explicit and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from validation.spec import SpecError, parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme" / "customer.yaml"


def _example(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return dict(data)


def _problem(data: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(data, path=Path("customer.yaml"))
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"controlpanel__base_url": "http://admin.mailroute.net"}, "controlpanel.base_url"),
        ({"controlpanel__base_url": "http://10.0.0.8:8080/"}, "controlpanel.base_url"),
        ({"hosted__imap_host": "imap.mailroute.net"}, "hosted.imap_tls"),
        ({"migration__source__host": "imap.oldhost.example"}, "migration.source.tls"),
        ({"migration__source__host": "192.0.2.7"}, "migration.source.tls"),
    ],
)
def test_plaintext_to_a_remote_host_is_refused(changes: dict[str, Any], field: str) -> None:
    """Rule: plain http / tls none only to loopback; the sentence names the field, the risk
    and both fixes (TLS, or the explicit override)."""
    problem = _problem(_example(**changes))
    assert field in problem and "unencrypted" in problem and "allow_plaintext: true" in problem


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_plaintext_to_loopback_is_fine(host: str) -> None:
    """Rule: the lab (127.0.0.0/8, ::1, localhost) may speak plaintext without an override."""
    base = "http://" + (host if ":" not in host or host.startswith("[") else f"[{host}]")
    data = _example(migration__source__host=host.strip("[]"), controlpanel__base_url=base)
    spec = parse_spec(data, path=Path("customer.yaml"))
    assert spec.plaintext_warning is None


def test_allow_plaintext_accepts_and_every_run_is_warned() -> None:
    """Rule: allow_plaintext: true lets remote plaintext through, and the spec carries the
    warning every run prints and logs."""
    data = _example(
        allow_plaintext=True,
        controlpanel__base_url="http://admin.mailroute.net",
        migration__source__host="imap.oldhost.example",
    )
    spec = parse_spec(data, path=Path("customer.yaml"))
    assert spec.plaintext_warning and "unencrypted" in spec.plaintext_warning


@pytest.mark.parametrize(
    "url",
    [
        "https://ops:S3cret-Pw@admin.mailroute.net",
        "https://ops@admin.mailroute.net/",
        "http://ops:S3cret-Pw@127.0.0.1:18080",
    ],
)
def test_credentials_in_base_url_are_refused_without_echoing_them(url: str) -> None:
    """Rule: user:password@ in controlpanel.base_url is refused in one sentence that shows
    neither the user nor the password."""
    problem = _problem(_example(controlpanel__base_url=url))
    assert "holds credentials" in problem and "api_key_secret" in problem
    assert "S3cret" not in problem and "ops" not in problem


def test_a_ca_file_is_relative_to_the_spec_and_must_exist(tmp_path: Path) -> None:
    """Rule: ``migration.source.ca_file`` is found in the spec's folder; a missing one is one
    sentence naming the field, the path and the fix."""
    (tmp_path / "old-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    spec = parse_spec(_example(migration__source__ca_file="old-ca.pem"), path=tmp_path / "c.yaml")
    assert spec.migration.source is not None
    assert spec.migration.source.ca_file == tmp_path / "old-ca.pem"
    with pytest.raises(SpecError, match=r"migration.source.ca_file: .*missing.pem is not a file"):
        parse_spec(_example(migration__source__ca_file="missing.pem"), path=tmp_path / "c.yaml")


def test_tls_verify_false_is_a_warning_of_every_run() -> None:
    """Rule: ``tls_verify: false`` is accepted and named in the spec's warnings (reports)."""
    spec = parse_spec(
        _example(migration__source__tls="implicit", migration__source__tls_verify=False),
        path=Path("customer.yaml"),
    )
    assert any("tls_verify is false" in w for w in spec.warnings)


def test_an_unknown_provider_names_the_choices() -> None:
    """Rule: ``provider`` is one of generic, microsoft365, google."""
    problem = _problem(_example(migration__source__provider="yahoo"))
    assert problem.startswith("migration.source.provider: must be one of")
    assert "microsoft365" in problem and "google" in problem
