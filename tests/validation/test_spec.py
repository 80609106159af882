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


PASTED = "sk_live_51H8xQ2eZvKYlo2C0aBcDeFgHiJkLmNoP"


@pytest.mark.parametrize(
    "where",
    [
        ("controlpanel", "api_key_secret"),
        ("migration", "source", "auth", "password_secret"),
    ],
    ids=lambda w: w[-1],
)
@pytest.mark.parametrize("value", [PASTED, "Tr7!kd 9Lqw with spaces", 12345678901234])
def test_a_secret_pasted_into_a_secret_field_is_never_echoed(
    where: tuple[str, ...], value: object
) -> None:
    """A key or password in a *_secret field: the error names the field, never the value."""
    data = _example()
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(SpecError) as info:
        parse_spec(data, path=Path("customer.yaml"))
    message = str(info.value)
    assert ".".join(where) in message and "Secret block" in message
    assert str(value) not in message and str(value) not in " ".join(info.value.problems)


def test_an_inline_secret_key_never_echoes_its_value() -> None:
    """``password: <value>`` anywhere is refused by key; the value is not in the message."""
    data = _example()
    data["migration"]["source"]["auth"]["password"] = PASTED
    data["controlpanel"]["token"] = PASTED
    with pytest.raises(SpecError) as info:
        parse_spec(data, path=Path("customer.yaml"))
    assert "looks like an inline secret" in str(info.value) and PASTED not in str(info.value)


def test_output_dir_is_relative_to_the_spec_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """output_dir (so the state DB, ledger and noted TTL) resolves against the spec's folder,
    whatever folder the command runs from; an absolute output_dir stays as written."""
    folder = tmp_path / "customers" / "acme"
    folder.mkdir(parents=True)
    data = _example()
    data.pop("output_dir", None)
    (folder / "customer.yaml").write_text(yaml.safe_dump(data))
    seen = set()
    for cwd in (tmp_path, folder, tmp_path / "customers"):
        monkeypatch.chdir(cwd)
        relative = Path("customers/acme/customer.yaml") if cwd == tmp_path else None
        spec = load_spec(relative or folder / "customer.yaml")
        seen.add(spec.output_dir)
    assert seen == {folder / "runs"}
    data["output_dir"] = str(tmp_path / "elsewhere")
    (folder / "customer.yaml").write_text(yaml.safe_dump(data))
    assert load_spec(folder / "customer.yaml").output_dir == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("customer: A\nreseller: B\ncustomer: C\n", "'customer' is written twice"),
        ("domains:\n  - name: a.test\n    name: b.test\n", "'name' is written twice"),
        ("x: " + "[" * 40 + "]" * 40, "nested more than 32 levels"),
        ("x: " + "9" * 4301, "longer than 4096 characters"),
        ("customer: A\n\tbad: x\n", "not valid YAML at line 2"),
    ],
    ids=["duplicate-top", "duplicate-nested", "deep", "long-int", "tab"],
)
def test_yaml_limits_and_duplicate_keys(tmp_path: Path, text: str, fragment: str) -> None:
    """Duplicate keys, deep nesting and over-long values are refused with the line."""
    path = tmp_path / "customer.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=fragment) as info:
        load_spec(path)
    assert "\n" not in str(info.value)


def test_alias_expansion_is_bounded(tmp_path: Path) -> None:
    """A "billion laughs" spec is refused by counting, without expanding it."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [{', '.join(['*a' + (str(i - 1) if i > 1 else '')] * 10)}]"
        for i in range(1, 9)
    ]
    path = tmp_path / "customer.yaml"
    path.write_text("\n".join(lines))
    with pytest.raises(SpecError, match="expands to more than 100,000 values"):
        load_spec(path)


def test_merge_keys_and_small_aliases_still_work(tmp_path: Path) -> None:
    """Ordinary YAML reuse (an anchor, a << merge that overrides a key) is still fine."""
    data = _example()
    del data["domains"]
    text = yaml.safe_dump(data) + (
        "domains:\n"
        "  - name: acme.test\n"
        "    mail_servers: [&srv {host: 127.0.0.1, priority: 10}]\n"
        "  - name: acme-mail.test\n"
        "    mail_servers: [{<<: *srv, priority: 20}]\n"
    )
    path = tmp_path / "customer.yaml"
    path.write_text(text)
    spec = load_spec(path)
    assert [d.mail_servers[0].priority for d in spec.domains] == [10, 20]


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
