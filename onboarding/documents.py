"""Customer-facing documents (client guides, user sheets, the final report) as Markdown, HTML, PDF.

A document is built once as data (:class:`Document`: sections of paragraphs, numbered steps,
bullets and tables) and rendered by Jinja2 templates in ``onboarding/templates/``: Markdown
without escaping, HTML with autoescaping on, so a customer name such as ``<b>Acme</b>`` is shown,
never run. Text may mark code with backticks (``imap.mailroute.net``); the HTML renderer escapes
the text first and only then turns the backtick spans into ``<code>``. PDF is WeasyPrint's
rendering of the same HTML (``render_pdf``), one page per section marked ``page_break``.

Every customer-facing document ends with the support contacts (:class:`SupportContacts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

__all__ = [
    "Document",
    "Section",
    "SupportContacts",
    "Table",
    "render_html",
    "render_markdown",
    "render_pdf",
]

_TEMPLATES = Path(__file__).parent / "templates"
_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class SupportContacts:
    """Who the customer and its users write to: technical support and account management."""

    technical: str = "support@mailroute.net"
    account_management: str = "sales@mailroute.net"


@dataclass(frozen=True)
class Table:
    """A table: header cells and rows of cells (plain text, backticks for code)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """One section: a heading (``id`` is its HTML anchor), then its parts in this order."""

    title: str
    id: str
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    steps: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    subsections: tuple[Section, ...] = ()
    after: tuple[str, ...] = ()
    page_break: bool = False


@dataclass(frozen=True)
class Document:
    """A whole document: title, a line under it, sections, and the support contacts."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    support: SupportContacts
    lang: str = "en"


def _inline_html(text: str) -> Markup:
    """Escape ``text``, then turn backtick spans into ``<code>`` tags.

    ``a `b` <c>`` becomes ``a <code>b</code> &lt;c&gt;``.
    """
    escaped = str(escape(text))
    return Markup(_CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = _inline_html
    env.filters["cell"] = _md_cell
    return env


_MD = _env(autoescape=False)
_HTML = _env(autoescape=True)


def render_markdown(doc: Document) -> str:
    """Return ``doc`` as GitHub-flavoured Markdown."""
    text = _MD.get_template("document.md.j2").render(doc=doc)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(doc: Document) -> str:
    """Return ``doc`` as one self-contained HTML page (inline CSS, no external resource)."""
    return _HTML.get_template("document.html.j2").render(doc=doc)


def render_pdf(html: str) -> bytes:
    """Return the PDF of an HTML page from :func:`render_html` (WeasyPrint, A4, no network)."""
    import weasyprint  # imported here: loading Pango takes a moment and only PDFs need it

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError(f"customer documents load no external resource ({url})")

    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=no_fetch).write_pdf()
    return pdf
