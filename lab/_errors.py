"""Errors the lab raises; all sit under :class:`onboarding.OnboardingError`.

::

    LabError                 (a lab server failed to start, answer or stop)
    ├── ServerStartError     (a server did not come up; carries its log tail)
    └── LabStateError        (the state folder is unusable or inconsistent)
"""

from __future__ import annotations

from onboarding import OnboardingError

__all__ = ["LabError", "LabStateError", "ServerStartError"]


class LabError(OnboardingError):
    """Raised when a lab server or the lab state cannot be used."""


class ServerStartError(LabError):
    """Raised when a server does not start; the message names it and ends with its log tail."""

    def __init__(self, server: str, reason: str, *, log_tail: str = "") -> None:
        self.server = server
        self.reason = reason
        self.log_tail = log_tail
        message = f"lab server {server!r} failed to start: {reason}"
        if log_tail:
            message += f"\n--- last lines of its log ---\n{log_tail}"
        super().__init__(message)


class LabStateError(LabError):
    """Raised when the lab state folder cannot be used (permissions, corrupt state file)."""
