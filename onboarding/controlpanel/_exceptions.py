"""Errors of the control-panel client and the provisioning engine.

Every httpx exception is translated at the client boundary (see ``_http.translate``)::

    OnboardingError
    └── ControlPanelError            any control-panel failure an operator can act on
        ├── AuthenticationFailed     401: the API key was rejected
        ├── PermissionDenied         403: the key's login may not do this
        ├── NotFound                 404: no such object (or endpoint)
        ├── ValidationFailed         400: the server rejected fields (``field_errors``)
        ├── Conflict                 an object exists with other settings; needs a person
        ├── RateLimited              429 still returned after every retry
        ├── ServerError              5xx still returned after every retry
        ├── UnexpectedResponse       a status or body the contract does not describe
        └── TransportError           no usable HTTP exchange (connect, timeout, dropped)
            └── Timeout              the server did not answer in time

Messages never contain request or response bodies: both can echo passwords.
"""

from __future__ import annotations

from collections.abc import Mapping

from onboarding._exceptions import OnboardingError

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "ControlPanelError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "Timeout",
    "TransportError",
    "UnexpectedResponse",
    "ValidationFailed",
]


class ControlPanelError(OnboardingError):
    """Raised for any control-panel failure; ``method``/``path``/``status`` say which call."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status


class AuthenticationFailed(ControlPanelError):
    """Raised when the server answers 401: the ``login:key`` pair is wrong or revoked."""


class PermissionDenied(ControlPanelError):
    """Raised when the server answers 403: the key's login lacks the privilege."""


class NotFound(ControlPanelError):
    """Raised when the server answers 404 for an object or endpoint."""


class ValidationFailed(ControlPanelError):
    """Raised when the server answers 400; ``field_errors`` maps field → messages."""

    def __init__(
        self,
        message: str,
        *,
        field_errors: Mapping[str, tuple[str, ...]] | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = 400,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.field_errors: dict[str, tuple[str, ...]] = dict(field_errors or {})


class Conflict(ControlPanelError):
    """Raised when an object exists with settings that differ from the spec (or on 409)."""


class RateLimited(ControlPanelError):
    """Raised when the server still answers 429 after every retry."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = 429,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.retry_after = retry_after


class ServerError(ControlPanelError):
    """Raised when the server still answers 5xx after every retry (or 501 at once)."""


class UnexpectedResponse(ControlPanelError):
    """Raised for a status or body the contract does not describe (e.g. invalid JSON)."""


class TransportError(ControlPanelError):
    """Raised when no HTTP response arrived: refused, reset, dropped, bad URL or TLS."""


class Timeout(TransportError):
    """Raised when the server did not answer within the client's timeout."""
