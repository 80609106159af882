"""One HTTP exchange with the control panel: retries, backoff, and status → exception.

Retried (contract §6.8): 429 (honouring ``Retry-After``), 500/502/503/504, and transport
failures that may be temporary (refused, reset, dropped, timed out). Everything else is
answered at once. A POST is retried too: the caller resolves "did the first try land?" by
looking the object up by its natural key (contract §6.1).

Nothing here logs a body or a header: bodies can echo passwords, headers carry the key.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

import onboarding.controlpanel._exceptions as errors
from onboarding.redact import scrub

__all__ = ["RetryPolicy", "Sender", "translate"]

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_RETRY_EXC: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

# First match wins (most specific first). tests/onboarding/controlpanel/test_http.py checks
# that every exception class httpx exports lands on an entry here.
EXCEPTION_MAP: tuple[tuple[type[Exception], type[errors.ControlPanelError]], ...] = (
    (httpx.TimeoutException, errors.Timeout),
    (httpx.TransportError, errors.TransportError),
    (httpx.InvalidURL, errors.TransportError),
    (httpx.DecodingError, errors.UnexpectedResponse),
    (httpx.TooManyRedirects, errors.UnexpectedResponse),
    (httpx.HTTPStatusError, errors.UnexpectedResponse),
    (httpx.CookieConflict, errors.UnexpectedResponse),
    (httpx.StreamError, errors.UnexpectedResponse),
    (httpx.HTTPError, errors.ControlPanelError),
)


def mapped_class(exc_type: type[Exception]) -> type[errors.ControlPanelError] | None:
    """Return the ControlPanelError class an httpx exception type translates to."""
    for foreign, ours in EXCEPTION_MAP:
        if issubclass(exc_type, foreign):
            return ours
    return None


def translate(exc: Exception, *, method: str, path: str) -> errors.ControlPanelError:
    """Return our exception for an httpx one, naming the call but no body or header.

    Anything else raised while sending (an encoding error of a header or body, which quotes
    the value) becomes a :class:`ControlPanelError` naming only the error's class.
    """
    ours = mapped_class(type(exc)) or errors.ControlPanelError
    reason = type(exc).__name__
    if ours is errors.ControlPanelError and mapped_class(type(exc)) is None:
        text = f"{method} {path}: the request could not be sent ({reason})"
    elif ours is errors.Timeout:
        text = f"{method} {path}: the control panel did not answer in time ({reason})"
    elif issubclass(ours, errors.TransportError):
        text = (
            f"{method} {path}: no response from the control panel ({reason}); check "
            "controlpanel.base_url in the spec and that the server is reachable"
        )
    else:
        text = f"{method} {path}: unusable response from the control panel ({reason})"
    return ours(text, method=method, path=path)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: ``attempts`` tries in total, exponential backoff.

    The wait before try n+1 is ``backoff * 2**(n-1)`` (capped at ``backoff_max``, with up to
    ``jitter`` of it added at random), or the server's ``Retry-After`` when it sends one
    (capped at ``retry_after_max``).
    """

    attempts: int = 5
    backoff: float = 0.2
    backoff_max: float = 10.0
    retry_after_max: float = 60.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Return seconds to wait after failed try number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        base = min(self.backoff * 2 ** (attempt - 1), self.backoff_max)
        return base + random.uniform(0, base * self.jitter)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return seconds from ``Retry-After`` (delta-seconds or HTTP-date, RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _field_errors(response: httpx.Response, secrets: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Flatten ``{"<resource>": {"field": ["msg"]}}`` (contract §1.1) to field → messages."""
    try:
        data = response.json()
    except ValueError:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        nested = value if isinstance(value, dict) else {key: value}
        for field, messages in nested.items():
            if isinstance(messages, list):
                out[str(field)] = tuple(_redact(str(m), secrets) for m in messages)
            else:
                out[str(field)] = (_redact(str(messages), secrets),)
    return out


# Statuses whose error says the same whatever the body: the exception and what to say.
_BY_STATUS: dict[int, tuple[type[errors.ControlPanelError], str]] = {
    401: (
        errors.AuthenticationFailed,
        "the control panel rejected the API key (401); check that the Secret block holds "
        "'login:key' for a reseller-level login",
    ),
    403: (
        errors.PermissionDenied,
        "the API key's login may not do this (403); use a reseller-level key",
    ),
    404: (errors.NotFound, "not found (404)"),
    409: (errors.Conflict, "conflict (409)"),
}


def error_for(
    response: httpx.Response, *, method: str, path: str, secrets: tuple[str, ...] = ()
) -> errors.ControlPanelError:
    """Return the exception for a final non-2xx ``response`` (branching on status alone)."""
    status = response.status_code
    where = f"{method} {path}"
    if status == 400:
        fields = _field_errors(response, secrets)
        detail = "; ".join(f"{f}: {' '.join(m)}" for f, m in sorted(fields.items()))
        return errors.ValidationFailed(
            f"{where}: the control panel rejected the request (400): {detail or 'no details'}",
            field_errors=fields,
            method=method,
            path=path,
        )
    if status == 429:
        return errors.RateLimited(
            f"{where}: still rate limited (429) after every retry; lower "
            "controlpanel.concurrency or try later",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            method=method,
            path=path,
        )
    if status in _BY_STATUS:
        kind, what = _BY_STATUS[status]
    elif status >= 500:
        kind = errors.ServerError
        what = f"the control panel failed ({status}); retry later or ask MailRoute support"
    else:
        kind, what = errors.UnexpectedResponse, f"unexpected status {status}"
    return kind(f"{where}: {what}", method=method, path=path, status=status)


class Sender:
    """Sends requests through one ``httpx.Client`` with retries; counts requests by method."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http
        self._retry = retry
        self._sleep = sleep
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()

    def _key_forms(self) -> tuple[str, ...]:
        """The API key as it may appear in an error: the header value and the key alone."""
        header = self._http.headers.get("Authorization", "")
        return (header, header.rpartition(":")[2]) if header else ()

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expect: tuple[int, ...] = (200,),
        secrets: tuple[str, ...] = (),
    ) -> httpx.Response:
        """Return the response once its status is in ``expect``; raise ControlPanelError else."""
        for attempt in range(1, self._retry.attempts + 1):
            last = attempt == self._retry.attempts
            with self._lock:
                self.requests[method] += 1
            failure: errors.ControlPanelError | None = None
            try:
                response = self._http.request(method, path, params=params, json=json)
            except Exception as exc:
                if isinstance(exc, _RETRY_EXC) and not last:
                    wait = self._retry.delay(attempt)
                    log.info(
                        "%s %s: %s, retry %d in %.2fs",
                        method,
                        path,
                        type(exc).__name__,
                        attempt,
                        wait,
                    )
                    self._sleep(wait)
                    continue
                failure = translate(exc, method=method, path=path)
                if mapped_class(type(exc)) is not None:  # an httpx error: kept as the cause
                    failure.__cause__ = exc
            if failure is not None:
                # An httpx error may quote the URL; an encoding error (never kept) holds the
                # whole header or body. Neither leaves with the key or a password in it.
                failure.__suppress_context__ = True
                raise scrub(failure, *secrets, *self._key_forms())
            status = response.status_code
            if status in expect:
                return response
            if status in _RETRY_STATUS and not last:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = self._retry.delay(attempt, retry_after)
                log.info("%s %s: %d, retry %d in %.2fs", method, path, status, attempt, wait)
                self._sleep(wait)
                continue
            raise error_for(response, method=method, path=path, secrets=secrets)
        raise AssertionError("unreachable: the last attempt returns or raises")
