"""Keep credentials out of error messages: masking, and the login-encoding rule, in one place.

Every engine that logs in or sends a key translates foreign errors at its boundary; these
helpers make sure the translated error cannot carry the credential (issue 13):

- :func:`redact` masks a secret in a text, also in the escaped forms a ``repr`` shows;
- :func:`scrub` masks secrets in an exception's ``args`` and string attributes, and cuts its
  ``__cause__``/``__context__`` chain (a foreign error there, such as the
  ``UnicodeEncodeError`` of an IMAP ``LOGIN``, holds the whole password in its ``args``);
- :func:`needs_plain` says whether a login can go as a quoted ``LOGIN`` (RFC 3501 §6.2.3) or
  needs ``AUTHENTICATE PLAIN`` (RFC 4616), whose UTF-8 message travels base64-encoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

__all__ = ["MASK", "mentions", "needs_plain", "redact", "scrub"]

MASK = "***"

E = TypeVar("E", bound=BaseException)


def _forms(secret: str) -> set[str]:
    """The secret as text, as a ``repr`` of the text, and as a ``repr`` of its UTF-8 bytes."""
    return {
        secret,
        repr(secret)[1:-1],
        repr(secret.encode("utf-8", "backslashreplace"))[2:-1],
    }


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every secret masked as ``***``, escaped forms included.

    ``redact("bad password Grüner1", "Grüner1")`` is ``"bad password ***"``; so is the same
    call on ``"b'Gr\\xc3\\xbcner1'"``'s inner text.
    """
    forms = {f for s in secrets if s for f in _forms(s) if f}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def mentions(text: str, secrets: Iterable[str | None]) -> bool:
    """True when ``text`` holds any form of any secret."""
    return any(f in text for s in secrets if s for f in _forms(s) if f)


def scrub(exc: E, *secrets: str | None) -> E:
    """Mask ``secrets`` in ``exc`` (its args and string attributes) and return it.

    The chain is cut (``__cause__``/``__context__`` set to None, ``__suppress_context__``
    set) whenever any exception in it mentions a secret, so a traceback printed or logged
    later (Prefect logs the whole chain) shows none.
    """
    if not any(secrets):
        return exc
    exc.args = tuple(redact(a, *secrets) if isinstance(a, str) else a for a in exc.args)
    for name, value in list(vars(exc).items()):
        if isinstance(value, str):
            setattr(exc, name, redact(value, *secrets))
    chain: list[BaseException] = []
    link = exc.__cause__ or exc.__context__
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    if any(mentions(repr(e.args), secrets) or mentions(str(e), secrets) for e in chain):
        exc.__cause__ = None
        exc.__context__ = None
        exc.__suppress_context__ = True
    return exc


def needs_plain(*values: str) -> bool:
    """True unless every value is printable ASCII, i.e. safe as a quoted LOGIN argument.

    ``needs_plain("ann@acme.test", "GrünerBaum-2024x")`` is True.
    """
    return not all(v.isascii() and v.isprintable() for v in values)
