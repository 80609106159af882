"""The public surface of a package, for the tests that pin it to ``__all__`` (STYLE rule 12)."""

from __future__ import annotations
import __future__

from types import ModuleType


def exported_names(pkg: ModuleType) -> set[str]:
    """Return the package's public names, leaving out its submodules and ``__future__`` flags.

    Submodules (``onboarding.cutover.ledger``) are reached by their module path, not
    re-exported; ``from __future__ import annotations`` leaves a name ``annotations`` behind.
    """
    return {
        name
        for name, value in vars(pkg).items()
        if not name.startswith("_") and not isinstance(value, ModuleType | __future__._Feature)
    }
