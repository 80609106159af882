"""IMAP4rev1 wire format (RFC 3501 §9): parse responses, format commands. Pure, no I/O.

A server response arrives as lines; a line ending in a literal marker ``{n}`` is followed by
exactly ``n`` bytes and then the rest of the response on the next line. The reader in
:mod:`onboarding.mailsync.imap` collects those pieces into a :class:`RawResponse` without
copying literal bytes; :func:`parse_tokens` turns them into nested lists::

    b'* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {5}'  + literal b'hello' + b')'
    → [b'*', b'1', b'FETCH', [b'UID', b'7', b'FLAGS', [b'\\Seen'], b'BODY[]', b'hello']]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from onboarding.mailsync.literal import Body, Spool

__all__ = [
    "RawResponse",
    "StatusResponse",
    "Token",
    "WireError",
    "append_command",
    "fetch_items",
    "literal_size",
    "parse_status_response",
    "parse_tokens",
    "quote",
    "uid_set",
]

Token = bytes | Spool | None | list["Token"]

_LITERAL_RE = re.compile(rb"\{(\d+)(\+?)\}$")
_STATUS_RE = re.compile(
    rb"^(?P<tag>\S+) (?P<status>OK|NO|BAD|BYE|PREAUTH)"
    rb"(?: \[(?P<code>[^\]]*)\])?(?: ?(?P<text>.*))?$",
    re.IGNORECASE,
)
_ATOM_SPECIALS = frozenset(b'(){ %*"\\]') | frozenset(range(0, 32)) | {127}


class WireError(ValueError):
    """Raised when bytes do not follow the IMAP grammar (the caller maps it to ProtocolError)."""


@dataclass
class RawResponse:
    """One complete server response: text lines (CRLF removed) and the literals between them.

    ``lines[i]`` is followed by ``literals[i]`` when ``i < len(literals)``; a big literal is a
    :class:`~onboarding.mailsync.literal.Spool` on disk instead of bytes.
    """

    lines: list[bytes] = field(default_factory=list)
    literals: list[Body] = field(default_factory=list)

    @property
    def first(self) -> bytes:
        return self.lines[0] if self.lines else b""

    @property
    def tag(self) -> bytes:
        return self.first.split(b" ", 1)[0]


def literal_size(line: bytes) -> int | None:
    """Return ``n`` if ``line`` (CRLF removed) ends with a literal marker ``{n}``/``{n+}``."""
    if not line.endswith(b"}"):
        return None
    m = _LITERAL_RE.search(line)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class StatusResponse:
    """A tagged or untagged OK/NO/BAD/BYE/PREAUTH with its response code split out."""

    tag: str
    status: str
    code: str | None
    code_args: list[Token]
    text: str

    @property
    def ok(self) -> bool:
        return self.status == "OK"


def parse_status_response(line: bytes) -> StatusResponse | None:
    """Parse ``A1 OK [APPENDUID 38505 3955] done``; None if ``line`` is not a status response."""
    m = _STATUS_RE.match(line)
    if not m:
        return None
    code_raw = m.group("code")
    code = None
    args: list[Token] = []
    if code_raw is not None:
        name, _, rest = code_raw.partition(b" ")
        code = name.decode("ascii", "replace").upper()
        if rest:
            try:
                args = parse_tokens(RawResponse([rest]))
            except WireError:
                args = [rest]
    return StatusResponse(
        tag=m.group("tag").decode("ascii", "replace"),
        status=m.group("status").decode("ascii").upper(),
        code=code,
        code_args=args,
        text=(m.group("text") or b"").decode("utf-8", "replace"),
    )


def parse_tokens(resp: RawResponse) -> list[Token]:
    """Tokenize a whole response into atoms/strings (bytes), NIL (None) and lists."""
    root: list[Token] = []
    stack: list[list[Token]] = [root]
    lit_iter = iter(resp.literals)
    for line in resp.lines:
        i, n = 0, len(line)
        while i < n:
            c = line[i]
            if c == 0x20:  # space
                i += 1
            elif c == 0x28:  # (
                new: list[Token] = []
                stack[-1].append(new)
                stack.append(new)
                i += 1
            elif c == 0x29:  # )
                if len(stack) == 1:
                    raise WireError(f"unbalanced ')' in {line[:80]!r}")
                stack.pop()
                i += 1
            elif c == 0x22:  # "
                i, value = _quoted(line, i)
                stack[-1].append(value)
            elif (c == 0x7B or (c == 0x7E and line[i + 1 : i + 2] == b"{")) and (
                _LITERAL_RE.match(line, i + (c == 0x7E)) and line.endswith(b"}")
            ):  # {n}, or ~{n} (a literal8 that may hold NUL bytes, RFC 3516 §4.2)
                try:
                    stack[-1].append(next(lit_iter))
                except StopIteration:
                    raise WireError("literal marker without literal data") from None
                i = n
            else:
                i, atom = _atom(line, i)
                stack[-1].append(None if atom == b"NIL" else atom)
    if len(stack) != 1:
        raise WireError(f"unbalanced '(' in response starting {resp.first[:80]!r}")
    return root


def _quoted(line: bytes, i: int) -> tuple[int, bytes]:
    out = bytearray()
    i += 1
    n = len(line)
    while i < n:
        c = line[i]
        if c == 0x5C and i + 1 < n:  # backslash escape
            out.append(line[i + 1])
            i += 2
        elif c == 0x22:
            return i + 1, bytes(out)
        else:
            out.append(c)
            i += 1
    raise WireError(f"unterminated quoted string in {line[:80]!r}")


def _atom(line: bytes, i: int) -> tuple[int, bytes]:
    """Read an atom; ``BODY[HEADER.FIELDS (X)]`` and ``BODY[]<0>`` stay one atom."""
    start, n, depth = i, len(line), 0
    while i < n:
        c = line[i]
        if c == 0x5B:  # [
            depth += 1
        elif c == 0x5D:  # ]
            depth -= 1
        elif depth <= 0 and c in (0x20, 0x28, 0x29):
            break
        i += 1
    return i, line[start:i]


def fetch_items(tokens: Sequence[Token]) -> tuple[int, dict[str, Token]]:
    """Return (sequence number, {ITEM: value}) for ``* n FETCH (ITEM value ...)`` tokens.

    Item names are upper-cased; any ``BODY[...]`` section that is a header fetch is keyed
    ``HEADER``, the whole body ``BODY[]`` and the whole message as ``BINARY[]`` (RFC 3516)
    ``BINARY[]``.
    """
    if len(tokens) < 4 or not isinstance(tokens[3], list) or tokens[2] != b"FETCH":
        raise WireError("not a FETCH response")
    seq = _int(tokens[1])
    pairs = tokens[3]
    items: dict[str, Token] = {}
    for k in range(0, len(pairs) - 1, 2):
        key = pairs[k]
        if not isinstance(key, bytes):
            raise WireError("FETCH item name is not an atom")
        name = key.decode("ascii", "replace").upper()
        if name.startswith("BODY[HEADER"):
            name = "HEADER"
        elif name.startswith("BODY[]") or name == "RFC822":
            name = "BODY[]"
        elif name.startswith("BINARY[]"):
            name = "BINARY[]"
        items[name] = pairs[k + 1]
    return seq, items


def _int(token: Token) -> int:
    if not isinstance(token, bytes) or not token.isdigit():
        raise WireError(f"expected a number, got {token!r}")
    return int(token)


def quote(value: str | bytes) -> bytes:
    """Return ``value`` as an IMAP quoted string (RFC 3501 §4.3); it must be 7-bit, no CR/LF."""
    raw = value.encode("ascii") if isinstance(value, str) else value
    if b"\r" in raw or b"\n" in raw or b"\0" in raw:
        raise ValueError("CR, LF and NUL cannot be sent in a quoted string")
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def is_atom(value: bytes) -> bool:
    """True if ``value`` can be sent as an atom (a keyword in a flag list, RFC 3501 §9)."""
    return bool(value) and all(c not in _ATOM_SPECIALS and c < 128 for c in value)


def append_command(
    tag: bytes,
    mailbox: bytes,
    flags: Iterable[str],
    internaldate: str | None,
    size: int,
    *,
    literal_plus: bool,
) -> bytes:
    """Return the APPEND command up to and including its literal marker and CRLF.

    The caller writes the message bytes and a final CRLF after it (with LITERAL+, RFC 7888,
    without waiting for a continuation).
    """
    parts = [tag, b"APPEND", quote(mailbox)]
    flag_bytes = b" ".join(f.encode("ascii") for f in flags)
    parts.append(b"(" + flag_bytes + b")")
    if internaldate:
        parts.append(quote(internaldate))
    marker = b"{%d+}" % size if literal_plus else b"{%d}" % size
    parts.append(marker)
    return b" ".join(parts) + b"\r\n"


def uid_set(uids: Iterable[int]) -> bytes:
    """Return a compact sequence set for sorted-or-not UIDs: ``[1,2,3,7]`` → ``b"1:3,7"``."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("empty UID set")
    out: list[bytes] = []
    start = prev = ordered[0]
    for u in ordered[1:]:
        if u == prev + 1:
            prev = u
            continue
        out.append(b"%d" % start if start == prev else b"%d:%d" % (start, prev))
        start = prev = u
    out.append(b"%d" % start if start == prev else b"%d:%d" % (start, prev))
    return b",".join(out)


def chunked(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    """Yield ``items`` in slices of at most ``size`` (command lines stay short)."""
    for k in range(0, len(items), size):
        yield items[k : k + size]
