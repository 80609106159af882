"""Every file the ``client-guides`` step hands out: guide, user sheets, profiles, files to publish.

``render_bundle(inputs)`` returns the files as ``(relative path, bytes)`` pairs; the task writes
them to the run folder unchanged. Layout::

    guide.md  guide.html  guide.pdf          the set-up guide for every user
    users/<address>.md  users/<address>.html one-page sheet per user
    user-sheets.html  user-sheets.pdf        all sheets, one page each, for printing (PDF up
                                             to SHEETS_PDF_LIMIT users)
    profiles/<address>.mobileconfig          Apple profile per user (no password)
    publish/<site>/<path>                    what our autoconfig/autodiscover hosts serve

Nothing here reads a password, so nothing written can contain one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from onboarding.clientconfig.files import render_mobileconfig
from onboarding.clientconfig.guides import GuideInputs, guide_document, profile_name, user_sheet
from onboarding.clientconfig.publish import site_files
from onboarding.documents import Document, render_html, render_markdown, render_pdf

__all__ = ["SHEETS_PDF_LIMIT", "BundleFile", "render_bundle"]

# Above this many users the printable user-sheets.pdf is left out (each sheet's own HTML and
# Markdown are still written): one PDF of thousands of pages helps nobody and takes minutes.
SHEETS_PDF_LIMIT = 1000


@dataclass(frozen=True)
class BundleFile:
    """One file of the bundle: its path relative to the run folder, and its content."""

    path: str
    content: bytes


def _sheets_document(g: GuideInputs, sheets: list[Document]) -> Document:
    """All user sheets in one document, each starting a new printed page."""
    sections = tuple(
        replace(
            section,
            id=f"{section.id}-{n}",
            title=f"{sheet.title}: {section.title}" if i == 0 else section.title,
            page_break=i == 0 and n > 0,
        )
        for n, sheet in enumerate(sheets)
        for i, section in enumerate(sheet.sections)
    )
    return Document(
        title=f"User sheets for {g.customer}",
        subtitle=f"{len(sheets)} mailbox(es), one page each.",
        sections=sections,
        support=g.support,
    )


def render_bundle(g: GuideInputs, *, pdf: bool = True) -> tuple[BundleFile, ...]:
    """Render the guide, every user's sheet and profile, and the files to publish."""
    files: list[BundleFile] = []

    def add(path: str, text: str | bytes) -> None:
        files.append(BundleFile(path, text.encode() if isinstance(text, str) else text))

    guide = guide_document(g)
    guide_html = render_html(guide)
    add("guide.md", render_markdown(guide))
    add("guide.html", guide_html)
    if pdf:
        add("guide.pdf", render_pdf(guide_html))
    sheets = []
    for user in g.users:
        sheet = user_sheet(g, user)
        sheets.append(sheet)
        add(f"users/{user.email}.md", render_markdown(sheet))
        add(f"users/{user.email}.html", render_html(sheet))
        add(
            f"profiles/{profile_name(user.email)}",
            render_mobileconfig(user.email, g.hosts, organization=g.customer),
        )
    if sheets:
        sheets_html = render_html(_sheets_document(g, sheets))
        add("user-sheets.html", sheets_html)
        if pdf and len(sheets) <= SHEETS_PDF_LIMIT:
            add("user-sheets.pdf", render_pdf(sheets_html))
    for path, text in site_files(g.domains, g.hosts, display_name=g.customer).items():
        add(f"publish/{path}", text)
    return tuple(files)
