"""The customer spec: errors name the YAML path and what is expected; no inline secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from validation.spec import SpecError, load_spec, parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme" / "customer.yaml"


def _example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def _problems(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(SpecError) as info:
        parse_spec(data, path=Path("customer.yaml"))
    return info.value.problems


def test_example_spec_loads_with_csv_relative_to_yaml() -> None:
    """The shipped example is valid and its users_csv resolves next to the YAML file."""
    spec = load_spec(EXAMPLE)
    assert spec.customer_slug == "acme-corp"
    assert spec.users_csv == EXAMPLE.parent / "users.csv"
    assert len(spec.domains) >= 2
    assert spec.followup.after_hours == 48


def test_bad_priority_names_yaml_path_and_range() -> None:
    """A non-integer priority is reported at its exact path with the allowed range."""
    data = _example()
    data["domains"][1]["mail_servers"][0]["priority"] = "high"
    assert _problems(data) == (
        'domains[1].mail_servers[0].priority: must be an integer 0-65535, got "high"',
    )


def test_inline_password_is_refused() -> None:
    """A password written in the spec is an error pointing at the Secret-block field."""
    data = _example()
    data["migration"]["source"]["auth"]["password"] = "hunter2-very-secret"
    problems = _problems(data)
    assert len(problems) == 1
    assert problems[0].startswith("migration.source.auth.password: looks like an inline secret")
    assert "hunter2" not in " ".join(problems)


def test_unknown_key_and_missing_source_reported_together() -> None:
    """Every problem is listed in one pass, not just the first."""
    data = _example()
    data["colour"] = "blue"
    del data["migration"]["source"]
    problems = _problems(data)
    assert "colour: is not a known setting" in problems[0] or any(
        p.startswith("colour:") for p in problems
    )
    assert any("source (the old IMAP server) is required" in p for p in problems)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "no such file"), ("customer: [unclosed", "not valid YAML at line 1")],
)
def test_unusable_spec_file(tmp_path: Path, content: str | None, fragment: str) -> None:
    """A missing or broken file gets one sentence naming the file."""
    path = tmp_path / "customer.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SpecError, match=fragment):
        load_spec(path)


def test_a_domain_without_mail_servers_is_new() -> None:
    """``mail_servers`` empty or absent: a new domain with no mail yet (hosted from the start)."""
    data = _example()
    data["domains"].append({"name": "acme-new.test"})
    data["domains"].append({"name": "acme-empty.test", "mail_servers": []})
    spec = parse_spec(data, path=EXAMPLE)
    assert [d.is_new for d in spec.domains] == [False, False, True, True]


def test_submission_defaults_are_mailroutes_587_with_starttls() -> None:
    """Without ``hosted.submission_*`` the submission service is smtp.mailroute.net:587."""
    data = _example()
    for key in ("submission_host", "submission_port"):
        data["hosted"].pop(key)
    hosted = parse_spec(data, path=EXAMPLE).hosted
    assert (hosted.submission_host, hosted.submission_port, hosted.submission_tls.value) == (
        "smtp.mailroute.net",
        587,
        "starttls",
    )


def test_notice_language_must_have_templates_and_test_accounts_be_addresses() -> None:
    """A notice language without templates and a test account that is no address are each
    reported at their path, naming what is allowed."""
    data = _example()
    data["notices"]["language"] = "fr"
    data["cutover"]["test_accounts"] = ["alice"]
    problems = _problems(data)
    assert any(p.startswith("notices.language: must be one of de, en") for p in problems)
    assert any(p.startswith("cutover.test_accounts: must be email addresses") for p in problems)
