"""The public surface of onboarding.cutover is exactly ``__all__`` (STYLE rule 12)."""

from __future__ import annotations

from support.public_api import exported_names

import onboarding.cutover as pkg


def test_all_matches_public_names() -> None:
    """Every public name is listed in ``__all__`` and every listed name exists."""
    assert exported_names(pkg) == set(pkg.__all__)
    assert all(hasattr(pkg, name) for name in pkg.__all__)
