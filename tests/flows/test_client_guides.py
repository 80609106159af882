"""The client-guides flow for the example customer (examples/acme): a guide and a sheet per
user with the example's real hosts and the support contacts, and no password anywhere."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from support.flow_result import result_json
from typer.testing import CliRunner

from cli.main import app
from flows.client_guides import client_guides

pytestmark = pytest.mark.usefixtures("prefect_server")

ACME = Path(__file__).resolve().parents[2] / "examples" / "acme"


def _example(tmp_path: Path) -> Path:
    """The example spec, writing its run folders under ``tmp_path``."""
    data = yaml.safe_load((ACME / "customer.yaml").read_text())
    shutil.copy(ACME / "users.csv", tmp_path / "users.csv")  # the list lives beside the spec
    data["users_csv"] = "users.csv"
    data["output_dir"] = str(tmp_path / "runs")
    spec = tmp_path / "customer.yaml"
    spec.write_text(yaml.safe_dump(data))
    return spec


def test_example_guides_and_sheets_have_the_hosts_contacts_and_no_password(
    tmp_path: Path,
) -> None:
    """For examples/acme: guide (MD, HTML, PDF), one sheet (MD, HTML) and one Apple profile
    per user, the files to publish per domain; every document names the example's IMAP and
    submission hosts and both support contacts; no user's password is in any file written or
    in the artifact."""
    with (ACME / "users.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    state = client_guides(spec_path=_example(tmp_path), return_state=True)
    data = result_json(state)
    assert state.is_completed(), data
    folder = Path(data["run_folder"])
    assert data["users"] == len(rows) == 22
    for name in ("guide.md", "guide.html", "guide.pdf", "user-sheets.html", "user-sheets.pdf"):
        assert (folder / name).stat().st_size > 1000, name
    assert (folder / "guide.pdf").read_bytes().startswith(b"%PDF-")
    for row in rows:
        for ext in ("md", "html"):
            assert (folder / "users" / f"{row['email']}.{ext}").is_file()
        assert (folder / "profiles" / f"{row['email']}.mobileconfig").is_file()
    assert sorted(data["publish"]) == sorted(
        f"publish/{site}.{d}/{path}"
        for d in ("acme.test", "acme-mail.test")
        for site, path in (
            ("autoconfig", "mail/config-v1.1.xml"),
            ("autodiscover", "autodiscover/autodiscover.xml"),
        )
    )
    documents = [p for p in folder.rglob("*") if p.suffix in (".md", ".html")]
    assert len(documents) == 2 * 22 + 3
    for doc in documents:
        text = doc.read_text(encoding="utf-8")
        for needle in (
            "imap.mailroute.test",
            "smtp.mailroute.test",
            "support@mailroute.net",
            "sales@mailroute.net",
        ):
            assert needle in text, (doc.name, needle)
    alice = (folder / "users" / "alice.adams@acme.test.md").read_text()
    assert "`sales@acme.test`, `info@acme.test`" in alice
    guide = (folder / "guide.md").read_text()
    for heading in ("Outlook", "Apple Mail", "Thunderbird", "Android", "Webmail",
                    "DNS propagation delays", "Password complexity", "SPF conflicts"):  # fmt: skip
        assert heading in guide, heading
    written = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["client-guides-acme-corp"]))
        )
    assert arts and "imap.mailroute.test" in str(arts[0].data)
    texts = [str(a.data).encode() for a in arts] + written
    for row in rows:
        password = row["password"].encode()
        assert not any(password in t for t in texts), f"the password of {row['email']} leaked"


def test_cli_client_guides_prints_the_folder_and_json(tmp_path: Path) -> None:
    """``onboard client-guides SPEC --format json`` exits 0 with the files and what to publish."""
    result = CliRunner().invoke(app, ["client-guides", str(_example(tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["users"] == 22
    assert "guide.html" in data["files"] and len(data["publish"]) == 4
