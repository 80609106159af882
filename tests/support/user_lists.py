"""User-list tests: a password every rule accepts, and a check that validates CSV text as a file."""

from __future__ import annotations

from pathlib import Path

from validation.spec import OnboardingSpec
from validation.users import UserListReport, validate_user_list

GOOD_PW = "Tr7!kd9Lqw"  # 10 characters, 4 kinds, not common, no name in it


def in_folder(spec: OnboardingSpec, folder: Path) -> OnboardingSpec:
    """``spec`` as if its customer.yaml were in ``folder`` (user lists must be inside it)."""
    return spec.model_copy(update={"spec_path": folder / "customer.yaml"})


def check_user_list(tmp_path: Path, spec: OnboardingSpec, text: str) -> UserListReport:
    """Validate ``text`` written as ``users.csv``; asserts every data row is counted once."""
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8", newline="")
    report = validate_user_list(in_folder(spec, tmp_path), path)
    assert report.reconciles, "every data row is counted once"
    return report


def check_addresses(tmp_path: Path, spec: OnboardingSpec, *emails: str) -> UserListReport:
    """:func:`check_user_list` of an ``email,password`` list of ``emails``, each row with
    :data:`GOOD_PW`, so only the addresses can be at fault."""
    rows = "".join(f"{email},{GOOD_PW}\n" for email in emails)
    return check_user_list(tmp_path, spec, "email,password\n" + rows)
