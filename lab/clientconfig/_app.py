"""The starlette app of the lab's client-configuration host (see the package docstring)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lab.clientconfig._sites import site_file
from onboarding.clientconfig.publish import AUTOCONFIG_PATH, AUTODISCOVER_PATH, EMAIL_PLACEHOLDER

__all__ = ["build_app"]

_XML = "application/xml; charset=utf-8"
_MAX_REQUEST = 64 * 1024


def _email_of(body: bytes) -> str | None:
    """The ``EMailAddress`` of an Autodiscover POX request, whatever its namespace."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "EMailAddress" and (el.text or "").strip():
            return (el.text or "").strip()
    return None


def build_app(state_dir: Path) -> Starlette:
    """The app serving ``state_dir``'s published sites."""

    async def index(request: Request) -> Response:
        return PlainTextResponse("lab client-configuration host\n")

    async def autoconfig(request: Request) -> Response:
        found = site_file(state_dir, request.headers.get("host", ""), AUTOCONFIG_PATH)
        if found is None:
            return PlainTextResponse("not published\n", status_code=404)
        return Response(found.read_bytes(), media_type=_XML)

    async def autodiscover(request: Request) -> Response:
        body = await request.body()
        email = _email_of(body[:_MAX_REQUEST]) if len(body) <= _MAX_REQUEST else None
        if email is None:
            return PlainTextResponse("expected an Autodiscover request\n", status_code=400)
        found = site_file(state_dir, request.headers.get("host", ""), AUTODISCOVER_PATH)
        if found is None:
            return PlainTextResponse("not published\n", status_code=404)
        text = found.read_text(encoding="utf-8").replace(EMAIL_PLACEHOLDER, escape(email))
        return Response(text, media_type=_XML)

    async def autodiscover_any_case(request: Request) -> Response:
        if request.url.path.lower() != AUTODISCOVER_PATH:
            return PlainTextResponse("not found\n", status_code=404)
        return await autodiscover(request)

    return Starlette(
        routes=[
            Route("/", index),
            Route(AUTOCONFIG_PATH, autoconfig),
            Route("/.well-known/autoconfig" + AUTOCONFIG_PATH, autoconfig),
            Route(AUTODISCOVER_PATH, autodiscover, methods=["POST"]),
            Route("/{a:path}", autodiscover_any_case, methods=["POST"]),
        ]
    )
