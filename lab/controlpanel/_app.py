"""The HTTP face of the lab control panel: routes, ApiKey auth, faults and request counts.

Answers follow the contract (§1.1): JSON bodies; 201 + object on create; 202 + object with
``pk`` on PUT/PATCH; 204 on DELETE; 400 with field errors; 401, 404 and 405 with an empty
``text/html`` body. ``/_lab/...`` are lab-only admin endpoints (same API key), see
``lab.controlpanel``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lab.controlpanel._faults import FaultRule, Faults
from lab.controlpanel._service import ApiError, Service

__all__ = ["Stats", "build_app"]

_LIST_METHODS = {"GET": "get", "POST": "post"}
_DETAIL_METHODS = {"GET": "get", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Stats:
    """API requests received, by HTTP method (``/_lab/stats``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_method: Counter[str] = Counter()

    def count(self, method: str) -> None:
        with self._lock:
            self.by_method[method] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self.by_method)
        writes = sum(n for m, n in counts.items() if m in _WRITE_METHODS)
        return {"requests": counts, "total": sum(counts.values()), "writes": writes}

    def reset(self) -> None:
        with self._lock:
            self.by_method.clear()


def _empty(status: int) -> Response:
    return Response(b"", status_code=status, media_type="text/html")


def _error(exc: ApiError) -> Response:
    if exc.body is None:
        return _empty(exc.status)
    return JSONResponse(exc.body, status_code=exc.status)


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, {"error": "The request body is not valid JSON."}) from None


def build_app(service: Service, api_key: str, faults: Faults, stats: Stats) -> ASGIApp:
    """Return the ASGI app: the lab fault layer around a Starlette router."""
    expected = f"ApiKey {api_key}".encode()

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, expected)

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not authorized(request):
                return _empty(401)
            try:
                return await handler(request)
            except ApiError as exc:
                return _error(exc)

        return endpoint

    async def root(request: Request) -> Response:
        return JSONResponse(service.root())

    async def schema(request: Request) -> Response:
        res = service.resource(request.path_params["res"])
        return JSONResponse(res.schema())

    async def collection(request: Request) -> Response:
        name = request.path_params["res"]
        res = service.resource(name)
        verb = _LIST_METHODS.get(request.method)
        if verb is None or verb not in res.list_methods:
            return _empty(405)
        if verb == "get":
            body = await _run(service.collection, name, list(request.query_params.multi_items()))
            return JSONResponse(body)
        data = await _body(request)
        created = await _run(service.create, name, data)
        return JSONResponse(created, status_code=201, headers={"Location": created["resource_uri"]})

    async def detail(request: Request) -> Response:
        name, key = request.path_params["res"], request.path_params["key"]
        res = service.resource(name)
        verb = _DETAIL_METHODS.get(request.method)
        if verb is None or verb not in res.detail_methods:
            return _empty(405)
        if verb == "get":
            return JSONResponse(await _run(service.detail, name, key))
        if verb == "delete":
            await _run(service.remove, name, key)
            return Response(b"", status_code=204)
        data = await _body(request)
        return JSONResponse(await _run(service.replace, name, key, data), status_code=202)

    async def lab_faults(request: Request) -> Response:
        if request.method == "DELETE":
            faults.clear()
        elif request.method == "POST":
            data = await _body(request) or {}
            try:
                rules = [FaultRule.model_validate(r) for r in data.get("faults", [])]
            except ValidationError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            faults.install(rules, seed=int(data.get("seed", 0)))
        return JSONResponse({"faults": faults.describe()})

    async def lab_stats(request: Request) -> Response:
        if request.method in ("POST", "DELETE"):
            stats.reset()
        return JSONResponse(stats.snapshot())

    api = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    router = Starlette(
        routes=[
            Route("/api/v1/", guarded(root), methods=["GET"]),
            Route("/api/v1/{res}/schema/", guarded(schema), methods=["GET"]),
            Route("/api/v1/{res}/", guarded(collection), methods=api),
            Route("/api/v1/{res}/{key}/", guarded(detail), methods=api),
            Route("/_lab/faults", guarded(lab_faults), methods=["GET", "POST", "DELETE"]),
            Route("/_lab/stats", guarded(lab_stats), methods=["GET", "POST", "DELETE"]),
        ],
    )
    return _FaultLayer(router, faults, stats)


class _FaultLayer:
    """Counts API requests and applies the installed fault rules before routing."""

    def __init__(self, app: ASGIApp, faults: Faults, stats: Stats) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        self.stats.count(method)
        body: dict[str, Any] | None = None
        if method in ("POST", "PUT", "PATCH") and self.faults.needs_body():
            raw = await _read_all(receive)
            receive = _replay(raw)
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
        for rule in self.faults.pick(method, path, body):
            if rule.kind == "latency":
                await asyncio.sleep(rule.seconds)
            elif rule.kind == "drop":
                await _drop(send)
                return
            elif rule.kind == "lose_answer":
                await self.app(scope, receive, _swallow)
                await _drop(send)
                return
            elif rule.kind == "reject":
                resource = path.removeprefix("/api/v1/").split("/", 1)[0]
                payload = {resource: {rule.field: [rule.message]}}
                await JSONResponse(payload, status_code=400)(scope, receive, send)
                return
            else:
                await _status(rule, scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _swallow(message: Message) -> None:
    """A ``send`` that discards the response (the ``lose_answer`` fault)."""


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(raw: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # like a client that keeps the connection open
        raise AssertionError("unreachable")

    return receive


async def _status(rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else None
    if rule.status >= 500:
        body = {
            "error_message": "Sorry, this request could not be processed. Please try again later."
        }
        response: Response = JSONResponse(body, status_code=rule.status, headers=headers)
    else:
        response = Response(b"", status_code=rule.status, headers=headers, media_type="text/html")
    await response(scope, receive, send)


async def _drop(send: Send) -> None:
    """Close the connection without answering (uvicorn exposes its transport on ``send``)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        return
    # Not under uvicorn: promise a body and never finish it, which the client sees as a drop.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]}
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": False})
