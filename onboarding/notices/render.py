"""Render a notice from its Jinja2 templates, in the customer's language.

Templates live in ``onboarding/notices/templates/<language>/``: per notice kind a
``<kind>.subject.j2`` (one line) and a ``<kind>.txt.j2`` (the body), plus ``when.j2`` (how the
language says when the cutover happens). A language is supported when it has every file;
adding one is adding a folder. Undefined variables are errors (``StrictUndefined``), so a
template can never silently drop a setting.

The context holds no password and no field that could carry one: a notice only ever says
where the password comes from (the administrator), never what it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

import jinja2

from onboarding.documents import SupportContacts  # one shape for every document
from onboarding.notices._exceptions import NoticeTemplateError

__all__ = [
    "KINDS",
    "ClientSettings",
    "NoticeContext",
    "NoticeKind",
    "RenderedNotice",
    "SupportContacts",
    "languages",
    "render_notice",
]

NoticeKind = Literal["before_cutover", "welcome"]
KINDS: tuple[NoticeKind, ...] = ("before_cutover", "welcome")
_FILES = ("when.j2", *(f"{k}.{part}.j2" for k in KINDS for part in ("subject", "txt")))


@dataclass(frozen=True)
class ClientSettings:
    """What a user's mail program is set to: the public host names and ports."""

    imap_host: str
    submission_host: str
    imap_port: int = 993
    submission_port: int = 587


@dataclass(frozen=True)
class NoticeContext:
    """Everything a notice to one user says; ``aliases`` are full addresses."""

    customer: str
    email: str
    aliases: tuple[str, ...]
    settings: ClientSettings
    support: SupportContacts
    ready_at: datetime
    window: str | None = None
    guide: str | None = None
    migrated: bool = False


@dataclass(frozen=True)
class RenderedNotice:
    """A notice ready to send: one-line ``subject`` and plain-text ``body``."""

    subject: str
    body: str


def _templates() -> Any:
    return resources.files("onboarding.notices") / "templates"


@cache
def languages() -> tuple[str, ...]:
    """The languages with a complete set of templates, sorted (``("de", "en")``)."""
    root = _templates()
    return tuple(
        sorted(
            d.name for d in root.iterdir() if d.is_dir() and all((d / f).is_file() for f in _FILES)
        )
    )


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_templates())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text mail; nothing here is HTML
        keep_trailing_newline=True,
    )


def _render(name: str, values: dict[str, Any]) -> str:
    try:
        return _environment().get_template(name).render(values)
    except jinja2.TemplateNotFound as exc:
        raise NoticeTemplateError(
            f"no notice template {name}; add it or pick a language of {', '.join(languages())}"
        ) from exc
    except jinja2.TemplateError as exc:
        raise NoticeTemplateError(f"notice template {name} failed: {exc}") from exc


def render_notice(kind: NoticeKind, language: str, context: NoticeContext) -> RenderedNotice:
    """Render ``kind`` for ``context`` in ``language``; raise :class:`NoticeTemplateError`.

    Raises ValueError for a kind or language that does not exist (a caller mistake: the spec
    validates the language against :func:`languages`).
    """
    if kind not in KINDS:
        raise ValueError(f"notice kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if language not in languages():
        raise ValueError(
            f"notice language must be one of {', '.join(languages())}, got {language!r}"
        )
    values = asdict(context) | {"settings": context.settings, "support": context.support}
    values["when"] = _render(f"{language}/when.j2", values).strip()
    subject = " ".join(_render(f"{language}/{kind}.subject.j2", values).split())
    body = _render(f"{language}/{kind}.txt.j2", values)
    return RenderedNotice(subject, body)
