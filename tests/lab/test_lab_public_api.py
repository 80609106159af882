"""The lab's public surface is exactly ``lab.__all__`` (STYLE rule 12)."""

from __future__ import annotations

import lab


def test_all_matches_what_is_exported() -> None:
    """Every public name is listed in __all__, and every listed name exists."""
    public = {name for name in vars(lab) if not name.startswith("_")} - {"corpus", "controlpanel"}
    assert set(lab.__all__) == public
    assert all(hasattr(lab, name) for name in lab.__all__)
