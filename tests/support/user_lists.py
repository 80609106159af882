"""User-list tests: a password every rule accepts, and a check that validates CSV text as a file."""

from __future__ import annotations

from pathlib import Path

from validation.spec import OnboardingSpec
from validation.users import UserListReport, validate_user_list

GOOD_PW = "Tr7!kd9Lqw"  # 10 characters, 4 kinds, not common, no name in it


def check_user_list(tmp_path: Path, spec: OnboardingSpec, text: str) -> UserListReport:
    """Validate ``text`` written as ``users.csv``; asserts every data row is counted once."""
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8", newline="")
    report = validate_user_list(spec, path)
    assert report.reconciles, "every data row is counted once"
    return report
