"""Read the customer's user CSV into a table, or say in one sentence why the file is unusable.

This module owns everything about the *file* (existence, encoding, delimiter, spreadsheet
formats, header spellings, row shape); :mod:`validation.users` owns the rules for the *values*.
Rows are indexed by the number a person sees in a spreadsheet: the header is row 1, so the
first user is row 2. Windows line endings and quoted fields with commas or line breaks are
ordinary CSV and read fine.

Error messages never quote cell contents: a cell may be a password.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from onboarding import OnboardingError

__all__ = [
    "KNOWN_COLUMNS",
    "RowShapeProblem",
    "UserListError",
    "UserTable",
    "canonical_column",
    "read_user_table",
]

SAVE_AS_UTF8 = (
    'in Excel use File > Save As > "CSV UTF-8 (Comma delimited)"; in LibreOffice use '
    'Save As > "Text CSV", tick "Edit filter settings" and choose "Unicode (UTF-8)" with '
    "comma as the field delimiter"
)

#: Header spellings people use, reduced to lowercase letters and digits, per canonical column.
KNOWN_COLUMNS: dict[str, frozenset[str]] = {
    "email": frozenset(
        {"email", "emailaddress", "emailaddr", "mail", "mailaddress", "useremail", "address"}
    ),
    "password": frozenset({"password", "passwd", "pass", "pwd", "newpassword", "userpassword"}),
    "source_username": frozenset(
        {"sourceusername", "sourceuser", "sourcelogin", "oldusername", "olduser", "oldlogin"}
    ),
    "source_password": frozenset(
        {"sourcepassword", "sourcepasswd", "sourcepass", "oldpassword", "oldpasswd"}
    ),
    "aliases": frozenset(
        {"aliases", "alias", "emailaliases", "emailalias", "otheraddresses", "aliasaddresses"}
    ),
}
_ALIASES = {alias: name for name, aliases in KNOWN_COLUMNS.items() for alias in aliases}
_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


class UserListError(OnboardingError):
    """Raised when the user CSV cannot be read as a table (missing, wrong format or encoding)."""

    def __init__(self, message: str, *, path: Path, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Keyword-only context would be lost by Exception's default pickling.
        return functools.partial(type(self), path=self.path, line=self.line), (str(self),)


@dataclass(frozen=True)
class RowShapeProblem:
    """A row with more values than the header has columns (usually an unquoted comma)."""

    row: int
    values: int
    columns: int


@dataclass(frozen=True, eq=False)
class UserTable:
    """The CSV as text cells: ``frame`` has canonical column names and spreadsheet row index."""

    path: Path
    frame: pd.DataFrame
    headers: dict[str, str]  # column name in ``frame`` -> header as written in the file
    rows: int  # data rows, blank rows excluded, misshapen rows included
    blank_rows: int = 0
    shape_problems: tuple[RowShapeProblem, ...] = field(default=())


def canonical_column(header: str) -> str | None:
    """Return the canonical name for a header spelling (``E-mail`` -> ``email``), else None."""
    return _ALIASES.get(re.sub(r"[^a-z0-9]", "", header.lower()))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _refuse_binary(data: bytes, path: Path) -> None:
    """Raise for spreadsheets renamed to .csv and UTF-16/32 text, detected by their bytes."""
    if data.startswith(b"PK\x03\x04"):
        head = data[:2048]
        if b"opendocument.spreadsheet" in head:
            kind, ext = "an OpenDocument spreadsheet", ".ods"
        elif b"xl/" in head or b"[Content_Types].xml" in head:
            kind, ext = "an Excel workbook", ".xlsx"
        else:
            kind, ext = "a ZIP archive (likely a spreadsheet)", ".xlsx/.ods"
        raise UserListError(
            f"{path}: is {kind} ({ext}) renamed to .csv, not a CSV file; open it in the "
            f"spreadsheet program and save it as CSV: {SAVE_AS_UTF8}",
            path=path,
            line=None,
        )
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UserListError(
            f"{path}: is an old Excel workbook (.xls) renamed to .csv, not a CSV file; "
            f"open it in Excel and save it as CSV: {SAVE_AS_UTF8}",
            path=path,
        )
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    # Without a BOM, UTF-16 text of ASCII letters has a NUL in every other byte.
    sample = data[:200]
    if not utf16 and len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 3:
        utf16 = True
    if utf16:
        raise UserListError(
            f'{path}: line 1 onwards is UTF-16 encoded text (Excel\'s "Unicode Text"), not '
            f"UTF-8; re-save it as UTF-8: {SAVE_AS_UTF8}",
            path=path,
            line=1,
        )


def _decode(data: bytes, path: Path) -> str:
    """Return the text of a UTF-8 file (a BOM is fine); name the first line that is not UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserListError(
            f"{path}: line {line} (byte {col} of the line) is not UTF-8; the file looks "
            f"Latin-1/Windows-1252 encoded. Re-save it as UTF-8: {SAVE_AS_UTF8}",
            path=path,
            line=line,
        ) from None


def _refuse_other_delimiter(header_line: str, path: Path) -> None:
    commas = header_line.count(",")
    for sep, name in _DELIMITERS.items():
        if header_line.count(sep) > commas:
            raise UserListError(
                f"{path}: line 1 is {name}-delimited (columns separated by {sep!r}), but the "
                f"file must be comma-delimited; re-save it with comma as the delimiter: "
                f"{SAVE_AS_UTF8}",
                path=path,
                line=1,
            )


def _map_headers(raw: list[str], path: Path) -> list[str]:
    """Return frame column names: canonical where known, the header as written otherwise."""
    names: list[str] = []
    seen: dict[str, str] = {}
    for i, header in enumerate(raw):
        header = header.strip()
        canon = canonical_column(header) if header else None
        if canon is None:
            names.append(header or f"(unnamed column {_column_letter(i)})")
            continue
        if canon in seen:
            raise UserListError(
                f"{path}: line 1 has two {canon} columns ({seen[canon]!r} and {header!r}); "
                "delete one of them",
                path=path,
                line=1,
            )
        seen[canon] = header
        names.append(canon)
    return names


def read_user_table(path: str | Path) -> UserTable:
    """Read ``path`` as comma-separated UTF-8 text with a header row.

    Raise :class:`UserListError` (one sentence naming the file, line and fix) when the file is
    missing, a folder, empty, header-only, UTF-16/Latin-1, delimited by ``;``/tab/``|``, or a
    spreadsheet renamed to .csv.
    """
    path = Path(path)
    if not path.exists():
        raise UserListError(
            f"{path}: no such file; check users_csv in customer.yaml or pass --users PATH",
            path=path,
        )
    if path.is_dir():
        raise UserListError(
            f"{path}: is a folder, not a CSV file; point users_csv (or --users) at the file",
            path=path,
        )
    data = path.read_bytes()
    if not data:
        raise UserListError(
            f"{path}: is empty (0 bytes); export the user list with a header row "
            "email,password and one user per row",
            path=path,
        )
    _refuse_binary(data, path)
    text = _decode(data, path)
    _refuse_other_delimiter(text.split("\n", 1)[0], path)

    records = csv.reader(io.StringIO(text, newline=""))
    header = next(records, [])
    if not any(h.strip() for h in header):
        raise UserListError(
            f"{path}: line 1 is blank; the first line must be the header row email,password",
            path=path,
            line=1,
        )
    names = _map_headers(header, path)
    width = len(names)
    columns: list[list[str]] = [[] for _ in range(width)]
    index: list[int] = []
    shape: list[RowShapeProblem] = []
    blank = 0
    for row_number, record in enumerate(records, start=2):
        if not any(record):
            blank += 1
            continue
        if len(record) > width:
            if any(record[width:]):
                shape.append(RowShapeProblem(row_number, len(record), width))
                continue
            record = record[:width]
        elif len(record) < width:
            record = record + [""] * (width - len(record))
        index.append(row_number)
        for col, value in zip(columns, record, strict=True):
            col.append(value)
    rows = len(index) + len(shape)
    if rows == 0:
        raise UserListError(
            f"{path}: has a header row but no users; add one row per user below the header",
            path=path,
            line=2,
        )
    frame = pd.DataFrame(
        {name: pd.Series(col, index=index, dtype=object) for name, col in zip(names, columns)},  # noqa: B905
        index=pd.Index(index, name="row"),
    )
    headers = {name: raw.strip() or name for name, raw in zip(names, header, strict=False)}
    for name in names:
        if name.startswith("(unnamed column") and not frame[name].astype(bool).any():
            frame = frame.drop(columns=name)  # a trailing comma on every line: harmless
            del headers[name]
    return UserTable(
        path=path,
        frame=frame,
        headers=headers,
        rows=rows,
        blank_rows=blank,
        shape_problems=tuple(shape),
    )
