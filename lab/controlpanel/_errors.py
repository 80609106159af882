"""Shared constants and the HTTP error answer of the lab control panel."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["API_ROOT", "ERROR_500", "URI_RE", "ApiError"]

API_ROOT = "/api/v1/"
URI_RE = re.compile(r"^/api/v1/(?P<res>[a-z_]+)/(?P<id>\d+)/?$")
ERROR_500 = {"error_message": "Sorry, this request could not be processed. Please try again later."}


class ApiError(Exception):
    """An HTTP error answer: ``status`` and an optional JSON ``body`` (None = empty html)."""

    def __init__(self, status: int, body: dict[str, Any] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
