"""Errors of the cutover engine.

The tree::

    OnboardingError
    └── CutoverError
        ├── DomainMissing        a spec domain does not exist in the control panel
        ├── HoldNotConfirmed     after the hold/release, re-reading the domain disagrees
        └── LedgerError          the cutover ledger file cannot be read or written
            └── LedgerMissing    a cutover has started but its ledger file is absent

Control-panel failures stay :class:`~onboarding.controlpanel.ControlPanelError` (already
translated by that engine).
"""

from __future__ import annotations

from onboarding._exceptions import OnboardingError

__all__ = ["CutoverError", "DomainMissing", "HoldNotConfirmed", "LedgerError", "LedgerMissing"]


class CutoverError(OnboardingError):
    """Raised when a cutover step cannot be carried out; the message says what to do."""

    def __init__(self, message: str, *, domain: str | None = None) -> None:
        super().__init__(message)
        self.domain = domain


class DomainMissing(CutoverError):
    """Raised when a domain of the spec does not exist in the control panel."""


class HoldNotConfirmed(CutoverError):
    """Raised when re-reading a domain after a hold or release shows the other value."""


class LedgerError(CutoverError):
    """Raised when the cutover ledger (JSON in the output folder) is unreadable or unwritable."""


class LedgerMissing(LedgerError):
    """Raised when a domain is already held or routed to hosted but the ledger file is absent.

    Starting over would give the cutover a new id (a second follow-up verification) and
    forget when DNS changed; the ledger was most likely written under another output folder.
    """
