"""Fault rules the tests install through ``POST /_lab/faults`` (not part of the API contract).

A rule matches a request by ``method``, ``path_prefix`` and (for ``reject``) JSON body
values, and fires for its first ``count`` matches (``null`` = forever) or with probability
``rate``. Kinds: ``latency`` (sleep ``seconds`` then answer normally), ``status`` (answer
``status``; 429 carries ``Retry-After: retry_after``; 5xx carries the documented
``error_message`` body), ``drop`` (close the connection without a response), ``lose_answer``
(process the request, then close the connection instead of answering: the write happened
but the client cannot know), ``reject`` (a permanent 400 ``{"<resource>": {field: [msg]}}``).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FaultRule", "Faults"]


class FaultRule(BaseModel):
    """One rule; see the module docstring."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["latency", "status", "drop", "lose_answer", "reject"]
    method: str | None = None
    path_prefix: str = "/api/"
    match: dict[str, Any] = Field(default_factory=dict)
    count: int | None = Field(default=None, ge=0)
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    seconds: float = Field(default=0.0, ge=0.0, le=60.0)
    status: int = Field(default=500, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0)
    field: str = "__all__"
    message: str = "Rejected by a lab fault rule."

    def matches(self, method: str, path: str, body: dict[str, Any] | None) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if not path.startswith(self.path_prefix):
            return False
        if self.match:
            if body is None:
                return False
            return all(body.get(k) == v for k, v in self.match.items())
        return True


@dataclass
class Faults:
    """The installed rules and how often each fired; thread-safe."""

    rules: list[FaultRule] = field(default_factory=list)
    fired: list[int] = field(default_factory=list)
    seed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=random.Random)

    def install(self, rules: list[FaultRule], *, seed: int = 0) -> None:
        with self._lock:
            self.rules = list(rules)
            self.fired = [0] * len(rules)
            self._random = random.Random(seed)

    def clear(self) -> None:
        self.install([])

    def needs_body(self) -> bool:
        with self._lock:
            return any(r.match for r in self.rules)

    def pick(self, method: str, path: str, body: dict[str, Any] | None) -> list[FaultRule]:
        """Return the rules that fire for this request (latency first, then one outcome)."""
        chosen: list[FaultRule] = []
        with self._lock:
            for i, rule in enumerate(self.rules):
                if not rule.matches(method, path, body):
                    continue
                if rule.count is not None and self.fired[i] >= rule.count:
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                if rule.kind != "latency" and any(c.kind != "latency" for c in chosen):
                    continue
                self.fired[i] += 1
                chosen.append(rule)
        chosen.sort(key=lambda r: r.kind != "latency")
        return chosen

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {**r.model_dump(), "fired": n} for r, n in zip(self.rules, self.fired, strict=True)
            ]
