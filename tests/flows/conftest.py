"""Fixtures the migration flow tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.migrate_customer import Customer, CustomerFor, make_customer

from lab import Lab, LabUser, LabUsers


@pytest.fixture
def customer_for(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch
) -> CustomerFor:
    """``customer_for(users, **options)``: :func:`make_customer` in this test's folder, lab,
    user domain and environment (the secret's variable is unset when the test ends)."""

    def make(users: tuple[LabUser, ...], **options: Any) -> Customer:
        return make_customer(tmp_path, lab, users, lab_users.domain, monkeypatch, **options)

    return make
