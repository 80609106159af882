"""The lab's public surface is exactly ``lab.__all__`` (STYLE rule 12)."""

from __future__ import annotations

import types

import lab


def test_all_matches_what_is_exported() -> None:
    """Every public name is listed in __all__, and every listed name exists (submodules such
    as ``lab.corpus`` are reached by their module path and not re-exported)."""
    public = {
        name
        for name, value in vars(lab).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(lab.__all__) == public
    assert all(hasattr(lab, name) for name in lab.__all__)
