"""Retries, backoff, Retry-After and status/exception translation of one HTTP exchange."""

from __future__ import annotations

import json
import logging
import pickle
import traceback
from datetime import UTC, datetime

import httpx
import pytest

from onboarding.controlpanel import (
    AuthenticationFailed,
    ControlPanelClient,
    ControlPanelError,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    Timeout,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)
from onboarding.controlpanel._http import EXCEPTION_MAP, mapped_class, parse_retry_after

KEY = "tester:0123456789abcdef"
EMPTY_LIST = {"meta": {"limit": 1, "offset": 0, "total_count": 0, "next": None}, "objects": []}


def _client(handler, *, attempts: int = 4, sleeps: list[float] | None = None) -> ControlPanelClient:
    waits = sleeps if sleeps is not None else []
    return ControlPanelClient(
        "https://cp.test",
        KEY,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=attempts, backoff=0.5, jitter=0.0),
        sleep=waits.append,
    )


def _httpx_exception_classes() -> list[type[Exception]]:
    found = []
    for name in dir(httpx):
        obj = getattr(httpx, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            found.append(obj)
    return found


def test_every_httpx_exception_class_is_mapped() -> None:
    """Rule: no httpx exception leaves the client untranslated (STYLE 5)."""
    classes = _httpx_exception_classes()
    assert len(classes) > 15
    for cls in classes:
        ours = mapped_class(cls)
        assert ours is not None, f"httpx.{cls.__name__} has no ControlPanelError mapping"
        assert issubclass(ours, ControlPanelError)
    assert mapped_class(httpx.ConnectTimeout) is Timeout
    assert mapped_class(httpx.RemoteProtocolError) is TransportError
    assert mapped_class(httpx.DecodingError) is UnexpectedResponse
    assert all(issubclass(ours, ControlPanelError) for _, ours in EXCEPTION_MAP)


def test_dropped_connections_are_retried_then_translated() -> None:
    """Rule: a transport failure is retried with backoff, then raised as TransportError."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.RemoteProtocolError("Server disconnected", request=request)

    sleeps: list[float] = []
    with pytest.raises(TransportError) as info:
        _client(handler, attempts=3, sleeps=sleeps).customers.all()
    assert calls == 3
    assert sleeps == [0.5, 1.0]
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)
    assert "base_url" in str(info.value)


def test_429_honours_retry_after_and_5xx_backs_off_exponentially() -> None:
    """Rule: 429 waits Retry-After seconds, 5xx waits backoff*2**n; then the call succeeds."""
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(503, text=""),
        httpx.Response(500, json={"error_message": "Sorry"}),
        httpx.Response(200, json=EMPTY_LIST),
    ]

    sleeps: list[float] = []
    cp = _client(lambda request: answers.pop(0), sleeps=sleeps)
    assert cp.customers.all() == []
    assert sleeps == [3.0, 1.0, 2.0]
    assert cp.requests_made == {"GET": 4}


def test_exhausted_retries_raise_rate_limited_and_server_error() -> None:
    """Rule: a 429/5xx that never clears ends as RateLimited / ServerError naming the call."""
    with pytest.raises(RateLimited) as limited:
        _client(
            lambda r: httpx.Response(429, headers={"Retry-After": "1"}), attempts=2
        ).customers.all()
    assert limited.value.retry_after == 1.0
    assert "GET /api/v1/customer/" in str(limited.value)
    with pytest.raises(ServerError) as failed:
        _client(lambda r: httpx.Response(502), attempts=2).customers.all()
    assert failed.value.status == 502


def test_401_and_404_are_not_retried_and_need_no_json_body() -> None:
    """Rule: 401/404 come with an empty text/html body (contract §6.14); branch on status."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        status = 401 if request.url.path.endswith("/customer/") else 404
        return httpx.Response(status, text="", headers={"content-type": "text/html"})

    cp = _client(handler)
    with pytest.raises(AuthenticationFailed) as auth:
        cp.check_access()
    assert "API key" in str(auth.value)
    with pytest.raises(NotFound):
        cp.domains.get(5)
    assert calls == 2


def test_400_field_errors_are_parsed_and_passwords_redacted() -> None:
    """Rule: 400 → ValidationFailed(field_errors); a server echoing the password is redacted."""
    secret = "Hunter2-very-secret"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/schema/"):
            fields = {
                n: {"readonly": False}
                for n in ("localpart", "domain", "password", "confirm_password", "create_opt")
            }
            return httpx.Response(200, json={"fields": fields})
        body = json.loads(request.content)
        assert body["password"] == secret and body["confirm_password"] == secret
        return httpx.Response(
            400,
            json={
                "email_account": {
                    "password": [f"'{secret}' is too weak."],
                    "localpart": ["This field is required."],
                }
            },
        )

    from onboarding.controlpanel import NewEmailAccount

    cp = _client(handler)
    with pytest.raises(ValidationFailed) as info:
        cp.email_accounts.create(
            NewEmailAccount(domain="/api/v1/domain/1/", localpart="a", password=secret)
        )
    assert info.value.field_errors["localpart"] == ("This field is required.",)
    assert secret not in str(info.value)
    assert secret not in repr(info.value.field_errors)


def test_nothing_logs_bodies_or_the_key(caplog: pytest.LogCaptureFixture) -> None:
    """Rule: retries log method, path and status only: never a body, a password or the key."""
    secret = "Pa55word-in-body"
    answers = [httpx.Response(500, json={"echo": secret}), httpx.Response(200, json=EMPTY_LIST)]
    caplog.set_level(logging.DEBUG)
    cp = _client(lambda request: answers.pop(0))
    cp.customers.all(name="Acme Corp")
    text = caplog.text
    assert "500" in text
    assert secret not in text
    assert KEY.split(":")[1] not in text
    assert KEY.split(":")[1] not in repr(cp)


def test_retry_after_accepts_http_dates() -> None:
    """Rule: Retry-After is delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:05 GMT", now=now) == 5.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert RetryPolicy(retry_after_max=10).delay(1, 3600) == 10


def _leaks(exc: BaseException, secret: str) -> list[str]:
    """Every view of an exception that Prefect may store or log, holding ``secret``."""
    texts = [str(exc), repr(exc.args), repr(vars(exc)), *traceback.format_exception(exc)]
    texts.append(pickle.dumps(exc).decode("latin-1"))
    return [t[:80] for t in texts if secret in t]


@pytest.mark.parametrize(
    "raised",
    [
        httpx.ConnectError(f"connect to http://{KEY}@cp.test failed"),
        httpx.InvalidURL(f"Invalid URL http://{KEY}@cp.test"),
        UnicodeEncodeError("ascii", f"ApiKey {KEY}ü", 0, 1, "ordinal not in range(128)"),
        TypeError(f"cannot encode {{'password': 'Pw-{KEY}'}}"),
    ],
    ids=["httpx-error", "invalid-url", "encoding-error", "anything-else"],
)
def test_a_foreign_error_carrying_the_key_is_translated_without_it(raised: Exception) -> None:
    """Secrets: whatever the transport raises (httpx errors quote the URL, an encoding error
    holds the whole header or body) becomes a ControlPanelError with no chain to it."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    with pytest.raises(ControlPanelError) as info:
        _client(handler, attempts=1).check_access()
    assert type(raised).__name__ in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not _leaks(info.value, KEY.split(":")[1])


def test_a_key_no_header_can_carry_is_refused_without_echoing_it() -> None:
    """Rule: a non-ASCII or control character in the key is a ValueError that says so and
    does not repeat the key (httpx would raise an encoding error holding it)."""
    for key in ("ops:Schlüssel-0123", "ops:key\x1b[2Jabc"):
        with pytest.raises(ValueError, match="HTTP header cannot carry") as info:
            ControlPanelClient("https://cp.test", key)
        assert "Schl" not in str(info.value) and "abc" not in str(info.value)


def test_credentials_or_remote_http_in_the_base_url_are_refused() -> None:
    """Rule: the client itself refuses user:password@ in the URL (never echoed) and plain
    http to a host that is not loopback unless allow_plaintext."""
    with pytest.raises(ValueError, match="holds credentials") as info:
        ControlPanelClient("https://ops:pw-Secret1@cp.example", KEY)
    assert "pw-Secret1" not in str(info.value)
    with pytest.raises(ValueError, match="plain http"):
        ControlPanelClient("http://cp.example", KEY)
    ControlPanelClient("http://cp.example", KEY, allow_plaintext=True).close()
