"""The type of the mail-sync tests' ``new_store`` fixture (see the mailsync ``conftest``)."""

from __future__ import annotations

from collections.abc import Callable

from onboarding.mailsync import StateStore

__all__ = ["NewStore"]

# ``new_store()``: a new, empty state store on each call, as a pass that lost its state sees it.
NewStore = Callable[[], StateStore]
